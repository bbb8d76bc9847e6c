/* scan.c — walking a folder collection.
 *
 * The first-level folders of the root are the categories; every file below
 * a category (at any depth up to LK_SCAN_MAX_DEPTH) belongs to it. The walk
 * only lists and stats: it never opens a file (decoding happens later, in
 * parallel), never follows a link that leads outside the root or back into
 * a folder already walked, skips hidden entries, and lists every entry it
 * cannot use with a one-line reason. */
#include "config.h"

#include <errno.h>
#include <dirent.h>
#include <fcntl.h>
#include <glib/gi18n.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "collection-private.h"
#include "error.h"

void
_lk_skipped_clear (gpointer data)
{
  LkSkipped *s = data;
  g_clear_pointer (&s->path, g_free);
  g_clear_pointer (&s->reason, g_free);
}

void
_lk_skipped_add (GArray *skipped, const char *path, const char *reason)
{
  LkSkipped s = { g_strdup (path), g_strdup (reason) };
  g_array_append_val (skipped, s);
}

static void
scan_entry_clear (gpointer data)
{
  LkScanEntry *e = data;
  g_clear_pointer (&e->relpath, g_free);
}

void
_lk_scan_tree_free (LkScanTree *tree)
{
  if (tree == NULL)
    return;
  g_free (tree->root);
  g_ptr_array_unref (tree->categories);
  g_array_unref (tree->entries);
  g_array_unref (tree->skipped);
  g_free (tree);
}

typedef struct {
  dev_t dev;
  ino_t ino;
} DirId;

static guint
dir_id_hash (gconstpointer p)
{
  const DirId *d = p;
  return (guint) (d->ino ^ (d->ino >> 32) ^ (d->dev * 31));
}

static gboolean
dir_id_equal (gconstpointer a, gconstpointer b)
{
  const DirId *x = a, *y = b;
  return x->dev == y->dev && x->ino == y->ino;
}

typedef struct {
  LkScanTree *tree;
  GHashTable *visited;        /* DirId of every folder walked */
  gsize root_len;
  GCancellable *cancellable;
} Walk;

/* Is the canonical path @real inside the root (or the root itself)? */
static gboolean
inside_root (Walk *walk, const char *real)
{
  return strncmp (real, walk->tree->root, walk->root_len) == 0 &&
         (real[walk->root_len] == '/' || real[walk->root_len] == '\0' ||
          walk->root_len == 1);
}

static gboolean
mark_visited (Walk *walk, const struct stat *st)
{
  DirId *id = g_new (DirId, 1);
  id->dev = st->st_dev;
  id->ino = st->st_ino;
  if (g_hash_table_contains (walk->visited, id))
    {
      g_free (id);
      return FALSE;
    }
  g_hash_table_add (walk->visited, id);
  return TRUE;
}

static const char *
kind_reason (mode_t mode)
{
  if (S_ISFIFO (mode))
    return _("not a regular file (a FIFO)");
  if (S_ISCHR (mode) || S_ISBLK (mode))
    return _("not a regular file (a device)");
  if (S_ISSOCK (mode))
    return _("not a regular file (a socket)");
  return _("not a regular file");
}

/* Resolves @abs (an entry found in a walked folder) into the stat of what
 * it names, following a symlink only when it stays inside the root. On
 * failure returns FALSE with *reason set. */
static gboolean
resolve_entry (Walk *walk, const char *abs, struct stat *st, const char **reason)
{
  if (lstat (abs, st) != 0)
    {
      *reason = g_strerror (errno);
      return FALSE;
    }
  if (S_ISLNK (st->st_mode))
    {
      char *real = realpath (abs, NULL);
      gboolean inside;
      if (real == NULL)
        {
          *reason = errno == ELOOP ? _("symbolic link loop") : _("dangling symbolic link");
          return FALSE;
        }
      inside = inside_root (walk, real);
      free (real);
      if (!inside)
        {
          *reason = _("symbolic link leads outside the collection");
          return FALSE;
        }
      if (stat (abs, st) != 0)
        {
          *reason = g_strerror (errno);
          return FALSE;
        }
    }
  return TRUE;
}

static gint
compare_names (gconstpointer a, gconstpointer b)
{
  return strcmp (*(char *const *) a, *(char *const *) b);
}

static void
walk_folder (Walk *walk, const char *rel, guint16 category, guint depth)
{
  g_autofree char *abs = g_build_filename (walk->tree->root, rel, NULL);
  g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  DIR *dir;
  struct dirent *de;

  if (g_cancellable_is_cancelled (walk->cancellable))
    return;
  dir = opendir (abs);
  if (dir == NULL)
    {
      _lk_skipped_add (walk->tree->skipped, rel, g_strerror (errno));
      return;
    }
  while ((de = readdir (dir)) != NULL)
    if (de->d_name[0] != '.')
      g_ptr_array_add (names, g_strdup (de->d_name));
  closedir (dir);
  g_ptr_array_sort (names, compare_names);

  for (guint i = 0; i < names->len; i++)
    {
      g_autofree char *child_rel = g_build_filename (rel, names->pdata[i], NULL);
      g_autofree char *child_abs = g_build_filename (abs, names->pdata[i], NULL);
      struct stat st;
      const char *reason = NULL;

      if (!resolve_entry (walk, child_abs, &st, &reason))
        _lk_skipped_add (walk->tree->skipped, child_rel, reason);
      else if (S_ISDIR (st.st_mode))
        {
          if (depth + 1 > LK_SCAN_MAX_DEPTH)
            _lk_skipped_add (walk->tree->skipped, child_rel, _("folders nested too deep"));
          else if (!mark_visited (walk, &st))
            _lk_skipped_add (walk->tree->skipped, child_rel,
                             _("folder already scanned (a symbolic link loop or a second link)"));
          else
            walk_folder (walk, child_rel, category, depth + 1);
        }
      else if (!S_ISREG (st.st_mode))
        _lk_skipped_add (walk->tree->skipped, child_rel, kind_reason (st.st_mode));
      else if (st.st_size == 0)
        _lk_skipped_add (walk->tree->skipped, child_rel, _("empty file"));
      else if ((guint64) st.st_size > LK_SCAN_MAX_FILE_SIZE)
        _lk_skipped_add (walk->tree->skipped, child_rel, _("file too large"));
      else
        {
          LkScanEntry e;
          e.relpath = g_steal_pointer (&child_rel);
          e.category = category;
          e.size = (guint64) st.st_size;
          e.mtime_ns = (gint64) st.st_mtim.tv_sec * G_GINT64_CONSTANT (1000000000) +
                       st.st_mtim.tv_nsec;
          g_array_append_val (walk->tree->entries, e);
        }
    }
}

LkScanTree *
_lk_scan_tree (const char *root, GCancellable *cancellable, GError **error)
{
  g_autoptr(LkScanTree) tree = g_new0 (LkScanTree, 1);
  g_autoptr(GHashTable) visited = NULL;
  g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GPtrArray) category_dirs = g_ptr_array_new_with_free_func (g_free);
  g_autofree char *display = g_filename_display_name (root);
  Walk walk;
  struct stat st;
  char *real;
  DIR *dir;
  struct dirent *de;

  tree->categories = g_ptr_array_new_with_free_func (g_free);
  tree->entries = g_array_new (FALSE, FALSE, sizeof (LkScanEntry));
  g_array_set_clear_func (tree->entries, scan_entry_clear);
  tree->skipped = g_array_new (FALSE, TRUE, sizeof (LkSkipped));
  g_array_set_clear_func (tree->skipped, _lk_skipped_clear);

  real = realpath (root, NULL);
  if (real == NULL || stat (real, &st) != 0)
    {
      int saved = errno;
      free (real);
      g_set_error (error, LK_ERROR, saved == ENOENT ? LK_ERROR_NOT_FOUND : LK_ERROR_IO,
                   _("Cannot open the collection %s: %s"), display, g_strerror (saved));
      return NULL;
    }
  tree->root = g_strdup (real);
  free (real);
  if (!S_ISDIR (st.st_mode))
    {
      g_set_error (error, LK_ERROR, LK_ERROR_INVALID,
                   _("Cannot open the collection %s: it is not a folder"), display);
      return NULL;
    }

  visited = g_hash_table_new_full (dir_id_hash, dir_id_equal, g_free, NULL);
  walk.tree = tree;
  walk.visited = visited;
  walk.root_len = strlen (tree->root);
  walk.cancellable = cancellable;
  mark_visited (&walk, &st);

  dir = opendir (tree->root);
  if (dir == NULL)
    {
      g_set_error (error, LK_ERROR, LK_ERROR_IO, _("Cannot open the collection %s: %s"),
                   display, g_strerror (errno));
      return NULL;
    }
  while ((de = readdir (dir)) != NULL)
    if (de->d_name[0] != '.')
      g_ptr_array_add (names, g_strdup (de->d_name));
  closedir (dir);
  g_ptr_array_sort (names, compare_names);

  /* First level: folders are categories; anything else is skipped. */
  for (guint i = 0; i < names->len; i++)
    {
      g_autofree char *abs = g_build_filename (tree->root, names->pdata[i], NULL);
      const char *reason = NULL;

      if (!resolve_entry (&walk, abs, &st, &reason))
        _lk_skipped_add (tree->skipped, names->pdata[i], reason);
      else if (!S_ISDIR (st.st_mode))
        _lk_skipped_add (tree->skipped, names->pdata[i],
                         _("not inside a category folder"));
      else if (!mark_visited (&walk, &st))
        _lk_skipped_add (tree->skipped, names->pdata[i],
                         _("folder already scanned (a symbolic link loop or a second link)"));
      else
        g_ptr_array_add (category_dirs, g_strdup (names->pdata[i]));
    }
  if (category_dirs->len == 0)
    {
      g_set_error (error, LK_ERROR, LK_ERROR_INVALID,
                   _("The collection %s has no category folders: put images in "
                     "sub-folders, one per category"), display);
      return NULL;
    }
  if (category_dirs->len > G_MAXUINT16)
    {
      g_set_error (error, LK_ERROR, LK_ERROR_INVALID,
                   _("The collection %s has more than %u category folders"),
                   display, G_MAXUINT16);
      return NULL;
    }

  for (guint c = 0; c < category_dirs->len; c++)
    {
      g_ptr_array_add (tree->categories, g_strdup (category_dirs->pdata[c]));
      walk_folder (&walk, category_dirs->pdata[c], (guint16) c, 1);
    }
  if (g_cancellable_set_error_if_cancelled (cancellable, error))
    return NULL;
  return g_steal_pointer (&tree);
}
