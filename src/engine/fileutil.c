/* fileutil.c — atomic writes, read-only mappings, XDG locations, hashing. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gi18n.h>
#include <glib/gstdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "error.h"
#include "fileutil.h"

struct _LkAtomicFile
{
  char *path;
  char *tmp_path;
  int fd;
};

static gboolean
fail_errno (GError **error, const char *path, const char *what, int saved_errno)
{
  g_set_error (error, LK_ERROR, LK_ERROR_IO,
               /* Translators: "Could not write /path: No space left on device" */
               _("Could not %s %s: %s"), what, path, g_strerror (saved_errno));
  return FALSE;
}

/* A writer killed before its commit leaves its temporary behind, as big
 * as the file it was writing (a gigabyte for a large image cache). Each
 * writer holds an exclusive flock on its temporary from creation to
 * rename, so a temporary of @path that can be locked has no writer left
 * and is removed. */
static void
sweep_stale_temporaries (const char *path)
{
  g_autofree char *dir = g_path_get_dirname (path);
  g_autofree char *base = g_path_get_basename (path);
  g_autofree char *prefix = g_strconcat (base, ".tmp-", NULL);
  g_autoptr(GDir) d = g_dir_open (dir, 0, NULL);
  gsize prefix_len = strlen (prefix);
  const char *name;

  while (d != NULL && (name = g_dir_read_name (d)) != NULL)
    {
      g_autofree char *tmp = NULL;
      int fd;

      if (strncmp (name, prefix, prefix_len) != 0 || strlen (name) != prefix_len + 6)
        continue;
      tmp = g_build_filename (dir, name, NULL);
      fd = open (tmp, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
      if (fd < 0)
        continue;
      if (flock (fd, LOCK_EX | LOCK_NB) == 0)
        g_unlink (tmp);
      close (fd);
    }
}

LkAtomicFile *
lk_atomic_file_open (const char *path, GError **error)
{
  g_autofree char *dir = NULL;
  LkAtomicFile *file;
  int fd;

  g_return_val_if_fail (path != NULL, NULL);

  dir = g_path_get_dirname (path);
  if (g_mkdir_with_parents (dir, 0755) != 0)
    {
      fail_errno (error, dir, _("create the folder"), errno);
      return NULL;
    }
  sweep_stale_temporaries (path);
  file = g_new0 (LkAtomicFile, 1);
  file->path = g_strdup (path);
  for (;;)
    {
      struct stat by_fd, by_path;

      g_free (file->tmp_path);
      file->tmp_path = g_strdup_printf ("%s.tmp-XXXXXX", path);
      fd = g_mkstemp_full (file->tmp_path, O_RDWR | O_CLOEXEC, 0644);
      if (fd < 0)
        {
          fail_errno (error, file->tmp_path, _("create"), errno);
          g_free (file->path);
          g_free (file->tmp_path);
          g_free (file);
          return NULL;
        }
      /* Another writer's sweep may have taken it between mkstemp and our
       * lock: then it is gone from the folder, and we start again. */
      if (flock (fd, LOCK_EX) == 0 && fstat (fd, &by_fd) == 0 &&
          stat (file->tmp_path, &by_path) == 0 &&
          by_fd.st_dev == by_path.st_dev && by_fd.st_ino == by_path.st_ino)
        break;
      close (fd);
    }
  file->fd = fd;
  return file;
}

gboolean
lk_atomic_file_write (LkAtomicFile *file, const void *data, gsize len, GError **error)
{
  const guint8 *p = data;

  while (len > 0)
    {
      gssize n = write (file->fd, p, MIN (len, (gsize) 1 << 30));
      if (n < 0)
        {
          if (errno == EINTR)
            continue;
          return fail_errno (error, file->path, _("write"), errno);
        }
      p += n;
      len -= (gsize) n;
    }
  return TRUE;
}

void
lk_atomic_file_abort (LkAtomicFile *file)
{
  if (file == NULL)
    return;
  if (file->fd >= 0)
    close (file->fd);
  g_unlink (file->tmp_path);
  g_free (file->path);
  g_free (file->tmp_path);
  g_free (file);
}

gboolean
lk_atomic_file_commit (LkAtomicFile *file, GError **error)
{
  g_autofree char *dir = NULL;
  int dfd;

  if (fsync (file->fd) != 0)
    {
      fail_errno (error, file->path, _("write"), errno);
      lk_atomic_file_abort (file);
      return FALSE;
    }
  /* Renamed while still open, so our lock keeps other writers' sweeps
   * away from it until it has its final name. */
  if (g_rename (file->tmp_path, file->path) != 0)
    {
      fail_errno (error, file->path, _("replace"), errno);
      lk_atomic_file_abort (file);
      return FALSE;
    }
  /* The data is on disk (fsync above): a late close error changes nothing. */
  close (file->fd);
  file->fd = -1;
  /* The rename is durable only once the folder is synced too. */
  dir = g_path_get_dirname (file->path);
  dfd = open (dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0)
    {
      fsync (dfd);
      close (dfd);
    }
  g_free (file->path);
  g_free (file->tmp_path);
  g_free (file);
  return TRUE;
}

gboolean
lk_file_write_atomic (const char *path, const void *data, gsize len, GError **error)
{
  LkAtomicFile *file = lk_atomic_file_open (path, error);

  if (file == NULL)
    return FALSE;
  if (!lk_atomic_file_write (file, data, len, error))
    {
      lk_atomic_file_abort (file);
      return FALSE;
    }
  return lk_atomic_file_commit (file, error);
}

struct _LkMapped
{
  GMappedFile *file;
};

LkMapped *
lk_mapped_open (const char *path, GError **error)
{
  g_autoptr(GError) local_error = NULL;
  GMappedFile *file = g_mapped_file_new (path, FALSE, &local_error);
  LkMapped *mapped;

  if (file == NULL)
    {
      int code = g_error_matches (local_error, G_FILE_ERROR, G_FILE_ERROR_NOENT)
                 ? LK_ERROR_NOT_FOUND : LK_ERROR_IO;
      g_set_error (error, LK_ERROR, code, "%s", local_error->message);
      return NULL;
    }
  mapped = g_new0 (LkMapped, 1);
  mapped->file = file;
  return mapped;
}

const guint8 *
lk_mapped_data (LkMapped *mapped)
{
  return (const guint8 *) g_mapped_file_get_contents (mapped->file);
}

gsize
lk_mapped_size (LkMapped *mapped)
{
  return g_mapped_file_get_length (mapped->file);
}

void
lk_mapped_free (LkMapped *mapped)
{
  if (mapped == NULL)
    return;
  g_mapped_file_unref (mapped->file);
  g_free (mapped);
}

char *
lk_cache_dir_for (const char *collection_id)
{
  return g_build_filename (g_get_user_cache_dir (), "likeness", collection_id, NULL);
}

char *
lk_data_dir_for (const char *collection_id)
{
  return g_build_filename (g_get_user_data_dir (), "likeness", collection_id, NULL);
}

/* A word-at-a-time multiply-xorshift hash: fast enough to checksum a
 * 60 MB cache file in a few tens of milliseconds, and stable across
 * runs and machines (little-endian reads). */
static inline guint64
mix64 (guint64 x)
{
  x ^= x >> 32;
  x *= G_GUINT64_CONSTANT (0xd6e8feb86659fd93);
  x ^= x >> 32;
  x *= G_GUINT64_CONSTANT (0xd6e8feb86659fd93);
  x ^= x >> 32;
  return x;
}

guint64
lk_hash64 (const void *data, gsize len, guint64 seed)
{
  const guint8 *p = data;
  guint64 h0 = seed ^ G_GUINT64_CONSTANT (0x9e3779b97f4a7c15);
  guint64 h1 = ~seed, h2 = seed * 3, h3 = seed + len;
  gsize i = 0;

  for (; i + 32 <= len; i += 32)
    {
      guint64 w[4];
      memcpy (w, p + i, 32);
      h0 = (h0 ^ GUINT64_FROM_LE (w[0])) * G_GUINT64_CONSTANT (0x9fb21c651e98df25);
      h1 = (h1 ^ GUINT64_FROM_LE (w[1])) * G_GUINT64_CONSTANT (0xc2b2ae3d27d4eb4f);
      h2 = (h2 ^ GUINT64_FROM_LE (w[2])) * G_GUINT64_CONSTANT (0x165667b19e3779f9);
      h3 = (h3 ^ GUINT64_FROM_LE (w[3])) * G_GUINT64_CONSTANT (0x27d4eb2f165667c5);
      h0 ^= h0 >> 29; h1 ^= h1 >> 31; h2 ^= h2 >> 27; h3 ^= h3 >> 33;
    }
  h0 = mix64 (h0 ^ mix64 (h1) ^ (mix64 (h2) << 1) ^ (mix64 (h3) << 2));
  for (; i < len; i++)
    h0 = (h0 ^ p[i]) * G_GUINT64_CONSTANT (0x100000001b3);
  return mix64 (h0 ^ len);
}
