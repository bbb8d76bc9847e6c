/* triplets.c — the triplet CSV (reading, atomic save, durable append and
 * undo) and the class-level and in-class generators. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gi18n.h>
#include <glib/gstdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "error.h"
#include "fileutil.h"
#include "triplets.h"

#define HEADER_LINE "query,positive,negative,rating,rater"
#define FILE_PREAMBLE "# Likeness triplets: paths relative to the collection; rating A " \
                      "(2nd more similar), B (3rd), both-similar, both-dissimilar or skip\n" \
                      HEADER_LINE "\n"

static const char *const rating_names[LK_N_RATINGS] = {
  "A", "B", "both-similar", "both-dissimilar", "skip"
};

const char *
lk_rating_name (LkRating rating)
{
  g_return_val_if_fail (rating < LK_N_RATINGS, NULL);
  return rating_names[rating];
}

gboolean
lk_rating_from_name (const char *name, LkRating *rating_out)
{
  g_return_val_if_fail (name != NULL, FALSE);
  for (guint r = 0; r < LK_N_RATINGS; r++)
    if (g_ascii_strcasecmp (name, rating_names[r]) == 0)
      {
        if (rating_out != NULL)
          *rating_out = r;
        return TRUE;
      }
  return FALSE;
}

/* ---- the set ---- */

struct _LkTripletSet
{
  char    *description;
  GArray  *rows;        /* LkTripletRow */
  GArray  *problems;    /* LkTripletProblem */
  gboolean derived_valid;
  GArray  *q, *p, *n;   /* guint32, derived from the A/B rows */
};

static void
row_clear (gpointer p)
{
  g_free (((LkTripletRow *) p)->rater);
}

static void
problem_clear (gpointer p)
{
  g_free (((LkTripletProblem *) p)->message);
}

LkTripletSet *
lk_triplet_set_new (const char *description)
{
  LkTripletSet *self = g_new0 (LkTripletSet, 1);
  self->description = g_strdup (description != NULL ? description : "");
  self->rows = g_array_new (FALSE, FALSE, sizeof (LkTripletRow));
  g_array_set_clear_func (self->rows, row_clear);
  self->problems = g_array_new (FALSE, FALSE, sizeof (LkTripletProblem));
  g_array_set_clear_func (self->problems, problem_clear);
  self->q = g_array_new (FALSE, FALSE, sizeof (guint32));
  self->p = g_array_new (FALSE, FALSE, sizeof (guint32));
  self->n = g_array_new (FALSE, FALSE, sizeof (guint32));
  return self;
}

void
lk_triplet_set_free (LkTripletSet *self)
{
  if (self == NULL)
    return;
  g_free (self->description);
  g_array_unref (self->rows);
  g_array_unref (self->problems);
  g_array_unref (self->q);
  g_array_unref (self->p);
  g_array_unref (self->n);
  g_free (self);
}

static void
add_row (LkTripletSet *self, guint32 query, guint32 a, guint32 b, LkRating rating,
         const char *rater, guint line)
{
  LkTripletRow row = { query, a, b, rating, g_strdup (rater), line };
  g_array_append_val (self->rows, row);
  self->derived_valid = FALSE;
}

void
lk_triplet_set_add (LkTripletSet *self, guint32 query, guint32 a, guint32 b, LkRating rating,
                    const char *rater)
{
  g_return_if_fail (self != NULL && rating < LK_N_RATINGS);
  add_row (self, query, a, b, rating, rater, 0);
}

const char *
lk_triplet_set_get_description (LkTripletSet *self)
{
  g_return_val_if_fail (self != NULL, NULL);
  return self->description;
}

void
lk_triplet_set_set_description (LkTripletSet *self, const char *description)
{
  g_return_if_fail (self != NULL);
  g_free (self->description);
  self->description = g_strdup (description != NULL ? description : "");
}

const LkTripletRow *
lk_triplet_set_get_rows (LkTripletSet *self, guint *n_out)
{
  g_return_val_if_fail (self != NULL && n_out != NULL, NULL);
  *n_out = self->rows->len;
  return (const LkTripletRow *) self->rows->data;
}

const LkTripletProblem *
lk_triplet_set_get_problems (LkTripletSet *self, guint *n_out)
{
  g_return_val_if_fail (self != NULL && n_out != NULL, NULL);
  *n_out = self->problems->len;
  return (const LkTripletProblem *) self->problems->data;
}

guint
lk_triplet_set_get_triplets (LkTripletSet *self, const guint32 **queries,
                             const guint32 **positives, const guint32 **negatives)
{
  g_return_val_if_fail (self != NULL, 0);
  if (!self->derived_valid)
    {
      g_array_set_size (self->q, 0);
      g_array_set_size (self->p, 0);
      g_array_set_size (self->n, 0);
      for (guint i = 0; i < self->rows->len; i++)
        {
          const LkTripletRow *r = &g_array_index (self->rows, LkTripletRow, i);
          guint32 pos, neg;
          if (r->rating == LK_RATING_A)
            pos = r->a, neg = r->b;
          else if (r->rating == LK_RATING_B)
            pos = r->b, neg = r->a;
          else
            continue;
          g_array_append_val (self->q, r->query);
          g_array_append_val (self->p, pos);
          g_array_append_val (self->n, neg);
        }
      self->derived_valid = TRUE;
    }
  if (queries != NULL)
    *queries = (const guint32 *) self->q->data;
  if (positives != NULL)
    *positives = (const guint32 *) self->p->data;
  if (negatives != NULL)
    *negatives = (const guint32 *) self->n->data;
  return self->q->len;
}

char *
lk_triplets_default_path (LkCollection *collection)
{
  g_autofree char *dir = NULL;
  g_return_val_if_fail (collection != NULL, NULL);
  dir = lk_data_dir_for (lk_collection_get_id (collection));
  return g_build_filename (dir, "triplets.csv", NULL);
}

/* ---- CSV records ---- */

typedef struct {
  gsize      start, end;   /* bytes [start, end), end just after the newline */
  guint      line;         /* of the record's first byte, from 1 */
  gboolean   data;         /* not blank, a comment or the header */
  GPtrArray *fields;       /* char *, NUL-terminated bytes */
} Record;

/* Splits @buf into records. Only records ending with a newline are
 * complete; *torn_out receives the offset where an incomplete last record
 * starts (or @len). Calls @fn for each complete record. */
typedef void (*RecordFn) (const Record *record, gpointer user_data);

static void
scan_records (const char *buf, gsize len, RecordFn fn, gpointer user_data, gsize *torn_out,
              guint *torn_line_out)
{
  gsize i = 0;
  guint line = 1;
  gboolean seen_header = FALSE;

  while (i < len)
    {
      Record rec = { i, 0, line, FALSE, NULL };
      g_autoptr(GPtrArray) fields = g_ptr_array_new_with_free_func (g_free);
      GString *field = g_string_new (NULL);
      gboolean in_quotes = FALSE, complete = FALSE, comment = buf[i] == '#';
      guint lines_in = 0;

      for (; i < len; i++)
        {
          char c = buf[i];
          if (c == '\n')
            lines_in++;
          if (comment)
            {
              if (c == '\n')
                {
                  i++;
                  complete = TRUE;
                  break;
                }
              continue;
            }
          if (in_quotes)
            {
              if (c == '"' && i + 1 < len && buf[i + 1] == '"')
                {
                  g_string_append_c (field, '"');
                  i++;
                }
              else if (c == '"')
                in_quotes = FALSE;
              else
                g_string_append_c (field, c);
              continue;
            }
          if (c == '"' && field->len == 0)
            in_quotes = TRUE;
          else if (c == ',')
            {
              g_ptr_array_add (fields, g_string_free (field, FALSE));
              field = g_string_new (NULL);
            }
          else if (c == '\n')
            {
              if (field->len > 0 && field->str[field->len - 1] == '\r')
                g_string_truncate (field, field->len - 1);
              i++;
              complete = TRUE;
              break;
            }
          else
            g_string_append_c (field, c);
        }
      g_ptr_array_add (fields, g_string_free (field, FALSE));
      if (!complete)
        {
          if (torn_out != NULL)
            *torn_out = rec.start;
          if (torn_line_out != NULL)
            *torn_line_out = rec.line;
          return;
        }
      rec.end = i;
      line += lines_in;
      rec.fields = fields;
      rec.data = !comment && !(fields->len == 1 && ((char *) fields->pdata[0])[0] == '\0');
      if (rec.data && !seen_header && g_str_equal (fields->pdata[0], "query"))
        {
          rec.data = FALSE;
          seen_header = TRUE;
        }
      if (rec.data)
        seen_header = TRUE;  /* a header is only recognised first */
      fn (&rec, user_data);
    }
  if (torn_out != NULL)
    *torn_out = len;
  if (torn_line_out != NULL)
    *torn_line_out = 0;
}

typedef struct {
  LkTripletSet *set;
  LkCollection *collection;
} LoadState;

static void
problem (LkTripletSet *set, guint line, char *message)
{
  LkTripletProblem p = { line, message };
  g_array_append_val (set->problems, p);
}

/* Checks a relative path: never absolute, no empty, "." or ".." part. */
static gboolean
path_is_inside (const char *path)
{
  g_auto(GStrv) parts = NULL;
  if (path[0] == '\0' || path[0] == '/')
    return FALSE;
  parts = g_strsplit (path, "/", -1);
  for (guint i = 0; parts[i] != NULL; i++)
    if (parts[i][0] == '\0' || g_str_equal (parts[i], ".") || g_str_equal (parts[i], ".."))
      return FALSE;
  return TRUE;
}

static gboolean
resolve (LoadState *st, const Record *rec, const char *path, guint32 *out)
{
  g_autofree char *shown = g_utf8_make_valid (path, -1);
  guint index;

  if (!path_is_inside (path))
    {
      problem (st->set, rec->line,
               g_strdup_printf (_("line %u: path “%s” is not inside the collection"), rec->line,
                                shown));
      return FALSE;
    }
  if (!lk_collection_find_path (st->collection, path, &index))
    {
      problem (st->set, rec->line,
               g_strdup_printf (_("line %u: “%s” is not an image of the collection (missing file)"),
                                rec->line, shown));
      return FALSE;
    }
  *out = index;
  return TRUE;
}

static void
load_record (const Record *rec, gpointer user_data)
{
  LoadState *st = user_data;
  GPtrArray *f = rec->fields;
  guint32 q, a, b;
  LkRating rating = LK_RATING_A;

  if (!rec->data)
    return;
  if (f->len < 3 || f->len > 5)
    {
      problem (st->set, rec->line,
               g_strdup_printf (_("line %u: expected 3 to 5 columns, found %u"), rec->line,
                                f->len));
      return;
    }
  if (!resolve (st, rec, f->pdata[0], &q) || !resolve (st, rec, f->pdata[1], &a)
      || !resolve (st, rec, f->pdata[2], &b))
    return;
  if (f->len >= 4 && ((char *) f->pdata[3])[0] != '\0'
      && !lk_rating_from_name (f->pdata[3], &rating))
    {
      g_autofree char *shown = g_utf8_make_valid (f->pdata[3], -1);
      problem (st->set, rec->line,
               g_strdup_printf (_("line %u: unknown rating “%s” (expected A, B, both-similar, "
                                  "both-dissimilar or skip)"), rec->line, shown));
      return;
    }
  if (q == a || q == b || a == b)
    {
      problem (st->set, rec->line,
               g_strdup_printf (_("line %u: the same image appears twice"), rec->line));
      return;
    }
  add_row (st->set, q, a, b, rating,
           f->len == 5 && ((char *) f->pdata[4])[0] != '\0' ? f->pdata[4] : NULL, rec->line);
}

LkTripletSet *
lk_triplet_set_load (const char *path, LkCollection *collection, GError **error)
{
  g_autofree char *contents = NULL;
  g_autoptr(GError) local = NULL;
  gsize len, torn;
  guint torn_line;
  LoadState st;

  g_return_val_if_fail (path != NULL && collection != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (!g_file_get_contents (path, &contents, &len, &local))
    {
      g_set_error (error, LK_ERROR,
                   g_error_matches (local, G_FILE_ERROR, G_FILE_ERROR_NOENT)
                   ? LK_ERROR_NOT_FOUND : LK_ERROR_IO, "%s", local->message);
      return NULL;
    }
  st.set = lk_triplet_set_new (path);
  st.collection = collection;
  scan_records (contents, len, load_record, &st, &torn, &torn_line);
  if (torn < len)
    problem (st.set, torn_line,
             g_strdup_printf (_("line %u: incomplete last line (an interrupted write), ignored"),
                              torn_line));
  return st.set;
}

/* ---- writing ---- */

static void
append_field (GString *out, const char *s)
{
  if (strpbrk (s, ",\"\r\n") == NULL && s[0] != '#')
    {
      g_string_append (out, s);
      return;
    }
  g_string_append_c (out, '"');
  for (const char *p = s; *p != '\0'; p++)
    {
      if (*p == '"')
        g_string_append_c (out, '"');
      g_string_append_c (out, *p);
    }
  g_string_append_c (out, '"');
}

static void
append_record (GString *out, LkCollection *collection, guint32 query, guint32 a, guint32 b,
               LkRating rating, const char *rater)
{
  append_field (out, lk_collection_get_path (collection, query));
  g_string_append_c (out, ',');
  append_field (out, lk_collection_get_path (collection, a));
  g_string_append_c (out, ',');
  append_field (out, lk_collection_get_path (collection, b));
  g_string_append_c (out, ',');
  g_string_append (out, rating_names[rating]);
  if (rater != NULL && rater[0] != '\0')
    {
      g_autofree char *clean = g_strdelimit (g_strdup (rater), "\r\n", ' ');
      g_string_append_c (out, ',');
      append_field (out, clean);
    }
  g_string_append_c (out, '\n');
}

gboolean
lk_triplet_set_save (LkTripletSet *self, LkCollection *collection, const char *path,
                     GError **error)
{
  g_autoptr(GString) out = g_string_new (FILE_PREAMBLE);
  guint n = lk_collection_get_n_images (collection);

  g_return_val_if_fail (self != NULL && collection != NULL && path != NULL, FALSE);
  for (guint i = 0; i < self->rows->len; i++)
    {
      const LkTripletRow *r = &g_array_index (self->rows, LkTripletRow, i);
      g_return_val_if_fail (r->query < n && r->a < n && r->b < n, FALSE);
      append_record (out, collection, r->query, r->a, r->b, r->rating, r->rater);
    }
  return lk_file_write_atomic (path, out->str, out->len, error);
}

static gboolean
fail_io (GError **error, const char *path, int saved)
{
  g_set_error (error, LK_ERROR, LK_ERROR_IO, _("Could not write %s: %s"), path,
               g_strerror (saved));
  return FALSE;
}

static gboolean
read_fd (int fd, const char *path, char **buf_out, gsize *len_out, GError **error)
{
  struct stat st;
  char *buf;
  gsize done = 0;

  if (fstat (fd, &st) != 0)
    return fail_io (error, path, errno);
  buf = g_malloc ((gsize) st.st_size + 1);
  while (done < (gsize) st.st_size)
    {
      gssize r = pread (fd, buf + done, (gsize) st.st_size - done, (off_t) done);
      if (r < 0 && errno == EINTR)
        continue;
      if (r <= 0)
        {
          int saved = r < 0 ? errno : EIO;
          g_free (buf);
          return fail_io (error, path, saved);
        }
      done += (gsize) r;
    }
  buf[done] = '\0';
  *buf_out = buf;
  *len_out = done;
  return TRUE;
}

static void
no_record (const Record *rec, gpointer user_data)
{
}

static void
last_data_record (const Record *rec, gpointer user_data)
{
  if (rec->data)
    *(gsize *) user_data = rec->start;
}

static gboolean
sync_fd (int fd, const char *path, GError **error)
{
  if (fsync (fd) != 0)
    return fail_io (error, path, errno);
  return TRUE;
}

static void
sync_dir (const char *path)
{
  g_autofree char *dir = g_path_get_dirname (path);
  int dfd = open (dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0)
    {
      fsync (dfd);
      close (dfd);
    }
}

gboolean
lk_triplets_append (const char *path, LkCollection *collection, guint32 query, guint32 a,
                    guint32 b, LkRating rating, const char *rater, GError **error)
{
  g_autoptr(GString) rec = g_string_new (NULL);
  g_autofree char *dir = NULL, *buf = NULL;
  gsize len = 0, torn = 0;
  gboolean created;
  const char *p;
  gsize left;
  int fd;

  g_return_val_if_fail (path != NULL && collection != NULL, FALSE);
  g_return_val_if_fail (rating < LK_N_RATINGS, FALSE);
  g_return_val_if_fail (query < lk_collection_get_n_images (collection), FALSE);
  g_return_val_if_fail (a < lk_collection_get_n_images (collection), FALSE);
  g_return_val_if_fail (b < lk_collection_get_n_images (collection), FALSE);

  dir = g_path_get_dirname (path);
  if (g_mkdir_with_parents (dir, 0755) != 0)
    return fail_io (error, dir, errno);
  created = !g_file_test (path, G_FILE_TEST_EXISTS);
  fd = open (path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0)
    return fail_io (error, path, errno);
  if (!read_fd (fd, path, &buf, &len, error))
    {
      close (fd);
      return FALSE;
    }
  /* A record cut short by a crash is not data: drop it before appending,
   * or the new record would be glued onto it. */
  scan_records (buf, len, no_record, NULL, &torn, NULL);
  if (torn < len && ftruncate (fd, (off_t) torn) != 0)
    {
      int saved = errno;
      close (fd);
      return fail_io (error, path, saved);
    }
  if (torn == 0)
    g_string_append (rec, FILE_PREAMBLE);
  append_record (rec, collection, query, a, b, rating, rater);

  /* One write at the end; a short write is continued, and whatever a
   * crash leaves of it is a torn last line. */
  p = rec->str;
  left = rec->len;
  while (left > 0)
    {
      gssize w = pwrite (fd, p, left, (off_t) (torn + (rec->len - left)));
      if (w < 0 && errno == EINTR)
        continue;
      if (w <= 0)
        {
          int saved = w < 0 ? errno : EIO;
          close (fd);
          return fail_io (error, path, saved);
        }
      p += w;
      left -= (gsize) w;
    }
  if (!sync_fd (fd, path, error))
    {
      close (fd);
      return FALSE;
    }
  close (fd);
  if (created)
    sync_dir (path);
  return TRUE;
}

gboolean
lk_triplets_remove_last (const char *path, GError **error)
{
  g_autofree char *buf = NULL;
  gsize len = 0, last = G_MAXSIZE;
  int fd;

  g_return_val_if_fail (path != NULL, FALSE);
  fd = open (path, O_RDWR | O_CLOEXEC);
  if (fd < 0)
    {
      int saved = errno;
      if (saved == ENOENT)
        {
          g_set_error (error, LK_ERROR, LK_ERROR_NOT_FOUND, _("%s has no answer to undo"), path);
          return FALSE;
        }
      return fail_io (error, path, saved);
    }
  if (!read_fd (fd, path, &buf, &len, error))
    {
      close (fd);
      return FALSE;
    }
  scan_records (buf, len, last_data_record, &last, NULL, NULL);
  if (last == G_MAXSIZE)
    {
      close (fd);
      g_set_error (error, LK_ERROR, LK_ERROR_NOT_FOUND, _("%s has no answer to undo"), path);
      return FALSE;
    }
  if (ftruncate (fd, (off_t) last) != 0)
    {
      int saved = errno;
      close (fd);
      return fail_io (error, path, saved);
    }
  if (!sync_fd (fd, path, error))
    {
      close (fd);
      return FALSE;
    }
  close (fd);
  return TRUE;
}

/* ---- generators ---- */

/* Members of @subset (NULL = all) by category. */
static GPtrArray *
by_category (const guint16 *labels, guint n_images, const guint32 *subset, guint n_subset,
             guint n_categories)
{
  GPtrArray *cats = g_ptr_array_new_with_free_func ((GDestroyNotify) g_array_unref);
  guint size = subset != NULL ? n_subset : n_images;

  for (guint c = 0; c < n_categories; c++)
    g_ptr_array_add (cats, g_array_new (FALSE, FALSE, sizeof (guint32)));
  for (guint i = 0; i < size; i++)
    {
      guint32 id = subset != NULL ? subset[i] : i;
      g_array_append_val (g_ptr_array_index (cats, labels[id]), id);
    }
  return cats;
}

static guint
max_label (const guint16 *labels, guint n)
{
  guint m = 0;
  for (guint i = 0; i < n; i++)
    m = MAX (m, labels[i]);
  return m + 1;
}

LkTripletSet *
lk_triplets_generate_class (const guint16 *labels, guint n_images, const guint32 *queries,
                            guint n_queries, const guint32 *base, guint n_base,
                            guint n_triplets, guint64 seed)
{
  g_autoptr(GRand) rand = g_rand_new_with_seed ((guint32) (seed ^ (seed >> 32)));
  g_autoptr(GPtrArray) cats = NULL;
  LkTripletSet *set;
  guint nq = queries != NULL ? n_queries : n_images;
  guint nb = base != NULL ? n_base : n_images;
  guint n_cat;
  guint64 attempts = 0;

  g_return_val_if_fail (labels != NULL || n_images == 0, NULL);
  set = lk_triplet_set_new (_("generated class-level triplets"));
  if (nq == 0 || nb == 0)
    return set;
  n_cat = max_label (labels, n_images);
  cats = by_category (labels, n_images, base, n_base, n_cat);
  while (set->rows->len < n_triplets && attempts++ < 100 * (guint64) n_triplets + 1000)
    {
      guint32 q = queries != NULL ? queries[g_rand_int_range (rand, 0, (gint32) nq)]
                                  : (guint32) g_rand_int_range (rand, 0, (gint32) nq);
      GArray *same = g_ptr_array_index (cats, labels[q]);
      guint32 p, n;
      if (same->len == 0 || (same->len == 1 && g_array_index (same, guint32, 0) == q)
          || same->len == nb)
        continue;
      do
        p = g_array_index (same, guint32, g_rand_int_range (rand, 0, (gint32) same->len));
      while (p == q);
      n = base != NULL ? base[g_rand_int_range (rand, 0, (gint32) nb)]
                       : (guint32) g_rand_int_range (rand, 0, (gint32) nb);
      if (labels[n] == labels[q])
        continue;
      add_row (set, q, p, n, LK_RATING_A, NULL, 0);
    }
  return set;
}

LkTripletSet *
lk_triplets_generate_in_class (LkRelevance *relevance, const guint32 *queries, guint n_queries,
                               const guint32 *base, guint n_base, guint n_triplets, float margin,
                               guint64 seed)
{
  g_autoptr(GRand) rand = g_rand_new_with_seed ((guint32) (seed ^ (seed >> 32)) + 17);
  g_autoptr(GPtrArray) cats = NULL;
  g_autofree guint8 *in_base = NULL;
  g_autofree guint32 *near = NULL;
  const guint16 *labels;
  LkTripletSet *set;
  guint n_images, nq, n_cat;
  guint64 attempts = 0;

  g_return_val_if_fail (relevance != NULL, NULL);
  n_images = lk_relevance_get_n_images (relevance);
  labels = lk_relevance_get_labels (relevance);
  n_cat = lk_relevance_get_n_categories (relevance);
  nq = queries != NULL ? n_queries : n_images;
  set = lk_triplet_set_new (_("generated in-class triplets"));
  if (nq == 0 || n_images == 0)
    return set;
  in_base = g_new0 (guint8, n_images);
  for (guint i = 0; i < (base != NULL ? n_base : n_images); i++)
    in_base[base != NULL ? base[i] : i] = 1;
  cats = by_category (labels, n_images, base, n_base, n_cat);
  near = g_new (guint32, lk_relevance_get_top_m (relevance) + 1);

  while (set->rows->len < n_triplets && attempts++ < 200 * (guint64) n_triplets + 1000)
    {
      guint32 q = queries != NULL ? queries[g_rand_int_range (rand, 0, (gint32) nq)]
                                  : (guint32) g_rand_int_range (rand, 0, (gint32) nq);
      const guint32 *idx;
      const float *rel;
      guint m = lk_relevance_neighbours (relevance, q, &idx, &rel), n_near = 0;
      GArray *same = g_ptr_array_index (cats, labels[q]);
      guint32 p, n;

      for (guint i = 0; i < m; i++)
        if (in_base[idx[i]] && idx[i] != q)
          near[n_near++] = idx[i];
      if (n_near == 0 || same->len < 3)
        continue;
      p = near[g_rand_int_range (rand, 0, (gint32) n_near)];
      if (g_rand_boolean (rand) && n_near > 1)
        n = near[g_rand_int_range (rand, 0, (gint32) n_near)];
      else
        n = g_array_index (same, guint32, g_rand_int_range (rand, 0, (gint32) same->len));
      if (n == p || n == q)
        continue;
      if (lk_relevance_pair (relevance, q, p) - lk_relevance_pair (relevance, q, n) < margin)
        continue;
      add_row (set, q, p, n, LK_RATING_A, NULL, 0);
    }
  return set;
}
