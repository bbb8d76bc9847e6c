/* lk-label-view.c — LkLabelView: the answers of the collection's triplet
 * file, informative triplets to ask about, and the answers written in
 * order by a worker.
 *
 * Triplets: a query from a seeded deck (never one already labelled),
 * its neighbours within its category by golden features and by the
 * other source of the pair — the source whose agreement is shown, or
 * raw pixels when that is golden features itself — and the pair
 * lk_candidates_choose() finds most informative. Two are chosen ahead,
 * in a worker, so the next one is there the moment an answer is given.
 *
 * Answers: appended in the order given, one at a time, by a worker
 * (lk_triplets_append() fsyncs, which can take longer than a frame);
 * the tally counts them at once. After a pause in the answers the
 * search service is told the triplets changed, so golden-learned and
 * the Evaluate view follow. */
#include "config.h"

#include <glib/gi18n.h>

#include "candidates.h"
#include "error.h"
#include "fileutil.h"
#include "lk-label-view-private.h"
#include "lk-session-binding.h"
#include "lk-source-dropdown.h"
#include "lk-source-slot.h"
#include "lk-status-page.h"
#include "lk-thumbnail.h"
#include "lk-weak-ref.h"
#include "lk-worker.h"
#include "metrics.h"
#include "triplets.h"

#define REFERENCE "golden"
#define OTHER_FALLBACK "pixels"
#define TOP_M 12            /* neighbours of each source a pair is chosen from */
#define QUERIES_PER_JOB 8   /* queries a worker tries before it gives up */
#define AHEAD 2             /* triplets chosen in advance */
#define NOTIFY_DELAY_MS 800 /* a pause in the answers before the others hear of them */

/* The two sources of the chooser: golden features, and the other. */
enum { REF, OTHER, N_SOURCES };

typedef struct {
  guint32  query;
  guint32  a;
  guint32  b;
  LkRating rating;
} Answer;

typedef enum { WRITE_APPEND, WRITE_REMOVE_LAST } WriteKind;

typedef struct {
  WriteKind     kind;
  Answer        answer;
  char         *path;
  LkCollection *collection;
  GWeakRef      view;
  GMainContext *context;
  GError       *error;
} Write;

struct _LkLabelView
{
  GtkWidget        parent_instance;

  /* Template widgets */
  GtkWidget       *scroller;
  GtkLabel        *reason_label;
  GtkDropDown     *agreement_dropdown;
  GtkRevealer     *progress_revealer;
  GtkLabel        *progress_label;
  GtkProgressBar  *progress_bar;
  GtkInfoBar      *error_bar;
  GtkLabel        *error_label;
  GtkStack        *stack;
  LkStatusPage    *status_page;
  LkThumbnail     *query_thumbnail;
  LkThumbnail     *a_thumbnail;
  LkThumbnail     *b_thumbnail;
  GtkLabel        *query_label;
  GtkLabel        *a_label;
  GtkLabel        *b_label;
  GtkWidget       *a_button;
  GtkLabel        *tally_label;

  /* Owned */
  LkSession       *session;
  LkSearchService *service;
  LkCollection    *collection;
  char            *path;                 /* the triplet file */
  GArray          *answers;              /* Answer, in the file's order */
  gboolean         loaded;
  GCancellable    *cancellable;          /* of the work for this collection */
  LkQueryDeck     *deck;
  GRand           *rand;
  char            *agreement;            /* the source whose agreement is shown */
  gboolean         agreement_chosen;
  LkSourceSlot    *slot[N_SOURCES];
  GQueue           ahead;                /* LkCandidate, chosen in advance */
  LkCandidate     *current;              /* shown, or NULL */
  gboolean         current_undone;       /* shown again by an undo */
  gboolean         choosing;
  gboolean         exhausted;
  guint            n_writing;            /* answers and undos not yet on disk */
  guint            notify_source;
  gboolean         syncing;
};

G_DEFINE_FINAL_TYPE (LkLabelView, lk_label_view, GTK_TYPE_WIDGET)

enum {
  PROP_0,
  PROP_SESSION,
  PROP_BUSY,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static void refresh (LkLabelView *self);
static void update_tally (LkLabelView *self);

static void
notify_busy (LkLabelView *self)
{
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_BUSY]);
}

gboolean
lk_label_view_get_busy (LkLabelView *self)
{
  g_return_val_if_fail (LK_IS_LABEL_VIEW (self), FALSE);
  if (self->collection == NULL)
    return FALSE;
  if (!self->loaded || self->n_writing > 0 || self->choosing || self->notify_source != 0)
    return TRUE;
  for (guint i = 0; i < N_SOURCES; i++)
    if (lk_source_slot_get_waiting (self->slot[i]))
      return TRUE;
  return FALSE;
}

static void
show_error (LkLabelView *self, const char *message)
{
  gtk_label_set_label (self->error_label, message);
  gtk_info_bar_set_revealed (self->error_bar, TRUE);
}

static void
on_error_response (LkLabelView *self, int response)
{
  if (response == GTK_RESPONSE_CLOSE)
    gtk_info_bar_set_revealed (self->error_bar, FALSE);
}

/* The other source of the pair: the one whose agreement is shown,
 * unless that is golden features. */
static const char *
other_source (LkLabelView *self)
{
  if (self->agreement != NULL && !g_str_equal (self->agreement, REFERENCE))
    return self->agreement;
  return OTHER_FALLBACK;
}

static LkSourceIndex *
agreement_index (LkLabelView *self)
{
  for (guint i = 0; i < N_SOURCES; i++)
    if (g_strcmp0 (lk_source_slot_get_name (self->slot[i]), self->agreement) == 0)
      return lk_source_slot_get_index (self->slot[i]);
  return NULL;
}

/* Showing the triplet ------------------------------------------------------------ */

static void
set_image (LkLabelView *self, LkThumbnail *thumbnail, GtkLabel *label, guint index)
{
  g_autoptr(LkImageItem) item = lk_image_item_new (self->collection, index);
  g_autofree char *name = lk_image_item_dup_display_name (item);

  lk_thumbnail_set_item (thumbnail, item);
  gtk_label_set_label (label, name);
}

static void
show_status (LkLabelView *self, const char *title, const char *description, gboolean spinning)
{
  lk_status_page_set_title (self->status_page, title);
  lk_status_page_set_description (self->status_page, description);
  lk_status_page_set_spinning (self->status_page, spinning);
  gtk_stack_set_visible_child_name (self->stack, "message");
  gtk_label_set_label (self->reason_label, NULL);
}

static void
show_current (LkLabelView *self)
{
  const LkCandidate *c = self->current;
  g_autofree char *reason = NULL;

  gtk_widget_action_set_enabled (GTK_WIDGET (self), "label.answer", c != NULL);
  if (c == NULL)
    {
      if (self->exhausted)
        show_status (self, _("No More Triplets"),
                     _("Every image of the collection has been a query. Undo an answer to "
                       "change it."), FALSE);
      else
        show_status (self, _("Choosing a Triplet…"), NULL, TRUE);
      return;
    }
  set_image (self, self->query_thumbnail, self->query_label, c->query);
  set_image (self, self->a_thumbnail, self->a_label, c->a);
  set_image (self, self->b_thumbnail, self->b_label, c->b);
  gtk_stack_set_visible_child_name (self->stack, "triplet");
  if (self->current_undone)
    reason = g_strdup (_("Your last answer was undone: answer it again."));
  else if (c->reason == LK_CANDIDATE_DISAGREE)
    /* TRANSLATORS: why this triplet is asked: the two sources' labels */
    reason = g_strdup_printf (_("%s and %s order A and B differently."),
                              lk_source_slot_get_label (self->slot[REF]),
                              lk_source_slot_get_label (self->slot[OTHER]));
  else
    /* TRANSLATORS: why this triplet is asked: the two sources' labels */
    reason = g_strdup_printf (_("%s and %s agree here; A and B are nearly as close to the "
                                "query by %s."), lk_source_slot_get_label (self->slot[REF]),
                              lk_source_slot_get_label (self->slot[OTHER]),
                              lk_source_slot_get_label (self->slot[REF]));
  gtk_label_set_label (self->reason_label, reason);
}

/* Choosing triplets in a worker ----------------------------------------------------- */

typedef struct {
  LkSourceIndex *index[N_SOURCES];
  guint32        queries[QUERIES_PER_JOB];
  guint          n_queries;
  guint          n_tried;      /* by the worker: the queries after these go back */
  guint32        seed;
} Choose;

static void
choose_free (Choose *c)
{
  for (guint i = 0; i < N_SOURCES; i++)
    lk_source_index_unref (c->index[i]);
  g_free (c);
}

static void
choose_thread (GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
  Choose *c = task_data;
  LkEmbedding *ref = lk_source_index_get_embedding (c->index[REF]);
  LkEmbedding *other = lk_source_index_get_embedding (c->index[OTHER]);
  LkCollection *coll = lk_source_index_get_collection (c->index[REF]);
  g_autoptr(GRand) rand = g_rand_new_with_seed (c->seed);
  LkNeighbour top_ref[TOP_M], top_other[TOP_M];

  for (guint i = 0; i < c->n_queries; i++)
    {
      guint32 q = c->queries[i];
      gint category = (gint) lk_collection_get_label (coll, q);
      guint n_ref = lk_source_index_query (c->index[REF], lk_embedding_get_row (ref, q), TOP_M,
                                           category, q, top_ref);
      guint n_other = lk_source_index_query (c->index[OTHER], lk_embedding_get_row (other, q),
                                             TOP_M, category, q, top_other);
      LkCandidate *out = g_new (LkCandidate, 1);

      c->n_tried = i + 1;
      if (lk_candidates_choose (ref, other, q, top_ref, n_ref, top_other, n_other, rand, out))
        {
          g_task_return_pointer (task, out, g_free);
          return;
        }
      g_free (out);
    }
  /* None of these queries has two candidates in its category. */
  g_task_return_pointer (task, NULL, NULL);
}

static void choose_ahead (LkLabelView *self);

static void
on_chosen (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr(LkLabelView) self = lk_weak_ref_steal (user_data);
  g_autoptr(GError) error = NULL;
  LkCandidate *c = g_task_propagate_pointer (G_TASK (result), &error);
  Choose *job = g_task_get_task_data (G_TASK (result));

  if (self == NULL || g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    {
      g_free (c);
      return;
    }
  self->choosing = FALSE;
  /* Drawn but not tried: back in the deck, in their order. */
  for (guint i = job->n_queries; i > job->n_tried; i--)
    lk_query_deck_put_back (self->deck, job->queries[i - 1]);
  if (c != NULL)
    g_queue_push_tail (&self->ahead, c);
  else if (lk_query_deck_remaining (self->deck) == 0)
    self->exhausted = TRUE;
  if (self->current == NULL && !g_queue_is_empty (&self->ahead))
    {
      self->current = g_queue_pop_head (&self->ahead);
      self->current_undone = FALSE;
    }
  show_current (self);
  choose_ahead (self);
  notify_busy (self);
}

/* Keeps AHEAD triplets chosen beyond the one shown. */
static void
choose_ahead (LkLabelView *self)
{
  g_autoptr(GTask) task = NULL;
  Choose *c;

  if (self->choosing || self->exhausted || lk_source_slot_get_index (self->slot[REF]) == NULL ||
      lk_source_slot_get_index (self->slot[OTHER]) == NULL ||
      g_queue_get_length (&self->ahead) >= AHEAD)
    return;
  c = g_new0 (Choose, 1);
  while (c->n_queries < QUERIES_PER_JOB && lk_query_deck_next (self->deck, &c->queries[c->n_queries]))
    c->n_queries++;
  if (c->n_queries == 0)
    {
      g_free (c);
      self->exhausted = TRUE;
      show_current (self);
      return;
    }
  for (guint i = 0; i < N_SOURCES; i++)
    c->index[i] = lk_source_index_ref (lk_source_slot_get_index (self->slot[i]));
  c->seed = g_rand_int (self->rand);
  self->choosing = TRUE;
  task = g_task_new (NULL, self->cancellable, on_chosen, lk_weak_ref_new (self));
  g_task_set_task_data (task, c, (GDestroyNotify) choose_free);
  g_task_run_in_thread (task, choose_thread);
}

static void
drop_ahead (LkLabelView *self)
{
  LkCandidate *c;

  /* Their queries were never asked: back in the deck. */
  while ((c = g_queue_pop_tail (&self->ahead)) != NULL)
    {
      if (self->deck != NULL)
        lk_query_deck_put_back (self->deck, c->query);
      g_free (c);
    }
  self->exhausted = FALSE;
}

/* Getting the two sources ready ---------------------------------------------------- */

static void
on_prepare_progress (LkLabelView *self, const char *name, guint done, guint total)
{
  for (guint i = 0; i < N_SOURCES; i++)
    {
      g_autofree char *text = lk_source_slot_dup_progress (self->slot[i], name, done, total);

      if (text == NULL)
        continue;
      gtk_label_set_label (self->progress_label, text);
      gtk_progress_bar_set_fraction (self->progress_bar, total > 0 ? (double) done / total : 0);
      gtk_revealer_set_reveal_child (self->progress_revealer, TRUE);
      return;
    }
}

/* One of the two is ready, or could not be. */
static void
on_slot_changed (LkLabelView *self, LkSourceSlot *slot)
{
  const char *error = lk_source_slot_get_error (slot);

  if (error != NULL && !lk_source_slot_get_stopped (slot))
    show_error (self, error);
  refresh (self);
  notify_busy (self);
}

/* Gets both ready, asking for them only while shown; returns whether
 * both are. */
static gboolean
prepare_sources (LkLabelView *self)
{
  gboolean mapped = gtk_widget_get_mapped (GTK_WIDGET (self));
  gboolean ready = TRUE;

  /* Triplets chosen with another pair are not what is asked about now. */
  if (lk_source_slot_set_name (self->slot[OTHER], other_source (self)))
    drop_ahead (self);
  for (guint i = 0; i < N_SOURCES; i++)
    ready &= lk_source_slot_update (self->slot[i], mapped);
  return ready;
}

/* Brings the page up to date: the sources, the triplet shown, the tally. */
static void
refresh (LkLabelView *self)
{
  gboolean ready;

  if (self->collection == NULL || self->service == NULL)
    return;
  ready = prepare_sources (self);
  if (ready)
    gtk_revealer_set_reveal_child (self->progress_revealer, FALSE);
  update_tally (self);
  if (!self->loaded)
    {
      show_status (self, _("Reading the Answers…"), NULL, TRUE);
      return;
    }
  if (!ready)
    {
      gboolean failed = lk_source_slot_get_error (self->slot[REF]) != NULL ||
                        lk_source_slot_get_error (self->slot[OTHER]) != NULL;
      if (self->current == NULL || failed)
        show_status (self, failed ? _("No Triplets to Ask About") : _("Getting Ready…"),
                     failed ? _("The sources that choose the triplets could not be used.")
                            : NULL, !failed);
      gtk_widget_action_set_enabled (GTK_WIDGET (self), "label.answer",
                                     self->current != NULL && !failed);
      return;
    }
  if (self->current == NULL && !g_queue_is_empty (&self->ahead))
    {
      self->current = g_queue_pop_head (&self->ahead);
      self->current_undone = FALSE;
    }
  show_current (self);
  choose_ahead (self);
}

/* The tally ---------------------------------------------------------------------------- */

static void
update_tally (LkLabelView *self)
{
  LkSourceIndex *agree = agreement_index (self);
  g_autoptr(GString) text = g_string_new (NULL);
  g_autofree float *d_pos = NULL, *d_neg = NULL;
  guint n_answers = self->answers->len, n_triplets = 0;

  gtk_widget_action_set_enabled (GTK_WIDGET (self), "label.undo", n_answers > 0 && self->loaded);
  if (!self->loaded)
    {
      gtk_label_set_label (self->tally_label, NULL);
      return;
    }
  if (n_answers == 0)
    {
      gtk_label_set_label (self->tally_label, _("No answers yet. Each answer is saved at once."));
      return;
    }
  d_pos = g_new (float, n_answers);
  d_neg = g_new (float, n_answers);
  for (guint i = 0; i < n_answers; i++)
    {
      const Answer *a = &g_array_index (self->answers, Answer, i);
      guint32 pos, neg;

      if (a->rating != LK_RATING_A && a->rating != LK_RATING_B)
        continue;
      pos = a->rating == LK_RATING_A ? a->a : a->b;
      neg = a->rating == LK_RATING_A ? a->b : a->a;
      if (agree != NULL)
        {
          /* One pair of rows per answer: a few thousand answers are a
           * few hundred microseconds. */
          LkEmbedding *emb = lk_source_index_get_embedding (agree);
          d_pos[n_triplets] = lk_embedding_distance (emb, a->query, pos);
          d_neg[n_triplets] = lk_embedding_distance (emb, a->query, neg);
        }
      n_triplets++;
    }
  g_string_append_printf (text, g_dngettext (GETTEXT_PACKAGE, "%u answer", "%u answers", n_answers),
                          n_answers);
  g_string_append (text, " · ");
  g_string_append_printf (text, g_dngettext (GETTEXT_PACKAGE, "%u triplet (A or B)",
                                             "%u triplets (A or B)", n_triplets), n_triplets);
  if (n_triplets > 0 && agree != NULL)
    {
      double precision = lk_metric_similarity_precision (d_pos, d_neg, n_triplets);
      g_string_append (text, " · ");
      /* TRANSLATORS: a source's label and its similarity precision on the answers */
      g_string_append_printf (text, _("%s agrees with %.1f%% of them"),
                              lk_source_index_get_label (agree), 100 * precision);
    }
  gtk_label_set_label (self->tally_label, text->str);
}

/* Writing the answers, in order ------------------------------------------------------------ */

/* One thread for every window's answers, taking them in the order they
 * were given: an append and the undo after it never swap, and answers
 * still queued when a window closes are written all the same. */
static void write_one (gpointer data, gpointer unused);

static GThreadPool *
writer_pool (void)
{
  static GThreadPool *pool;
  static gsize once;

  if (g_once_init_enter (&once))
    {
      pool = g_thread_pool_new (write_one, NULL, 1, FALSE, NULL);
      g_once_init_leave (&once, 1);
    }
  return pool;
}

static void
write_free (Write *w)
{
  g_free (w->path);
  lk_collection_unref (w->collection);
  g_weak_ref_clear (&w->view);
  g_main_context_unref (w->context);
  g_clear_error (&w->error);
  g_free (w);
}

static void load_answers (LkLabelView *self);

static gboolean
notify_triplets_changed (gpointer data)
{
  LkLabelView *self = data;

  self->notify_source = 0;
  lk_search_service_triplets_changed (self->service);
  notify_busy (self);
  return G_SOURCE_REMOVE;
}

/* Main thread. */
static gboolean
written (gpointer data)
{
  Write *w = data;
  g_autoptr(LkLabelView) self = g_weak_ref_get (&w->view);

  if (self == NULL || self->collection != w->collection)
    return G_SOURCE_REMOVE;
  self->n_writing--;
  if (w->error != NULL)
    {
      /* What is in the file is what counts: read it again. */
      show_error (self, w->error->message);
      load_answers (self);
    }
  g_clear_handle_id (&self->notify_source, g_source_remove);
  self->notify_source = g_timeout_add (NOTIFY_DELAY_MS, notify_triplets_changed, self);
  notify_busy (self);
  return G_SOURCE_REMOVE;
}

/* The writer's thread. */
static void
write_one (gpointer data, gpointer unused)
{
  Write *w = data;

  if (w->kind == WRITE_APPEND)
    lk_triplets_append (w->path, w->collection, w->answer.query, w->answer.a, w->answer.b,
                        w->answer.rating, NULL, &w->error);
  else
    lk_triplets_remove_last (w->path, &w->error);
  lk_worker_post (w->context, written, w, (GDestroyNotify) write_free);
}

static void
queue_write (LkLabelView *self, WriteKind kind, const Answer *answer)
{
  Write *w = g_new0 (Write, 1);

  w->kind = kind;
  if (answer != NULL)
    w->answer = *answer;
  w->path = g_strdup (self->path);
  w->collection = lk_collection_ref (self->collection);
  g_weak_ref_init (&w->view, self);
  w->context = g_main_context_ref_thread_default ();
  self->n_writing++;
  g_thread_pool_push (writer_pool (), w, NULL);
  notify_busy (self);
}

/* Answering and undoing ------------------------------------------------------------------------ */

static void
answer_action (GtkWidget *widget, const char *action_name, GVariant *parameter)
{
  LkLabelView *self = LK_LABEL_VIEW (widget);
  Answer a;

  if (self->current == NULL || !lk_rating_from_name (g_variant_get_string (parameter, NULL),
                                                     &a.rating))
    return;
  a.query = self->current->query;
  a.a = self->current->a;
  a.b = self->current->b;
  g_array_append_val (self->answers, a);
  queue_write (self, WRITE_APPEND, &a);
  g_clear_pointer (&self->current, g_free);
  refresh (self);
}

static void
undo_action (GtkWidget *widget, const char *action_name, GVariant *parameter)
{
  LkLabelView *self = LK_LABEL_VIEW (widget);
  Answer last;
  LkCandidate *again;

  if (!self->loaded || self->answers->len == 0)
    return;
  last = g_array_index (self->answers, Answer, self->answers->len - 1);
  g_array_set_size (self->answers, self->answers->len - 1);
  queue_write (self, WRITE_REMOVE_LAST, NULL);

  /* The undone triplet is asked again; the one shown waits its turn. */
  if (self->current != NULL)
    g_queue_push_head (&self->ahead, self->current);
  again = g_new0 (LkCandidate, 1);
  again->query = last.query;
  again->a = last.a;
  again->b = last.b;
  self->current = again;
  self->current_undone = TRUE;
  refresh (self);
}

static void
cancel_action (GtkWidget *widget, const char *action_name, GVariant *parameter)
{
  LkLabelView *self = LK_LABEL_VIEW (widget);

  if (self->service != NULL)
    lk_search_service_cancel_prepare (self->service);
}

/* The answers already in the file ----------------------------------------------------------------- */

static void
load_thread (GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
  LkCollection *coll = task_data;
  g_autofree char *path = lk_triplets_default_path (coll);
  g_autoptr(GError) error = NULL;
  g_autoptr(LkTripletSet) set = lk_triplet_set_load (path, coll, &error);
  GArray *answers = g_array_new (FALSE, FALSE, sizeof (Answer));
  const LkTripletRow *rows;
  guint n = 0;

  if (set == NULL && !g_error_matches (error, LK_ERROR, LK_ERROR_NOT_FOUND))
    {
      g_array_unref (answers);
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }
  rows = set != NULL ? lk_triplet_set_get_rows (set, &n) : NULL;
  for (guint i = 0; i < n; i++)
    {
      Answer a = { rows[i].query, rows[i].a, rows[i].b, rows[i].rating };
      g_array_append_val (answers, a);
    }
  g_task_return_pointer (task, answers, (GDestroyNotify) g_array_unref);
}

static void
on_loaded (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr(LkLabelView) self = lk_weak_ref_steal (user_data);
  g_autoptr(GError) error = NULL;
  GArray *answers = g_task_propagate_pointer (G_TASK (result), &error);

  if (self == NULL || g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    {
      g_clear_pointer (&answers, g_array_unref);
      return;
    }
  if (answers == NULL)
    {
      show_error (self, error->message);
      answers = g_array_new (FALSE, FALSE, sizeof (Answer));
    }
  g_array_unref (self->answers);
  self->answers = answers;
  for (guint i = 0; i < answers->len; i++)
    lk_query_deck_mark_used (self->deck, g_array_index (answers, Answer, i).query);
  self->loaded = TRUE;
  refresh (self);
  notify_busy (self);
}

static void
load_answers (LkLabelView *self)
{
  g_autoptr(GTask) task = g_task_new (NULL, self->cancellable, on_loaded, lk_weak_ref_new (self));

  self->loaded = FALSE;
  g_task_set_task_data (task, lk_collection_ref (self->collection),
                        (GDestroyNotify) lk_collection_unref);
  g_task_run_in_thread (task, load_thread);
}

/* Following the session ------------------------------------------------------------------------------- */

static void
fill_dropdown (LkLabelView *self)
{
  const LkEmbeddingSource *model = lk_search_service_get_newest_model (self->service);
  const char *fallback = model != NULL ? model->name : REFERENCE;
  const char *name;

  if (!lk_search_service_get_sources_listed (self->service))
    {
      if (self->agreement == NULL)
        self->agreement = g_strdup (REFERENCE);
      return;
    }
  self->syncing = TRUE;
  lk_source_dropdown_fill (self->agreement_dropdown, self->service,
                           self->agreement_chosen ? self->agreement : fallback, fallback);
  self->syncing = FALSE;
  name = lk_source_dropdown_get_name (self->agreement_dropdown);
  if (name != NULL && g_strcmp0 (name, self->agreement) != 0)
    {
      g_free (self->agreement);
      self->agreement = g_strdup (name);
    }
}

static void
on_sources_changed (LkLabelView *self)
{
  fill_dropdown (self);
  refresh (self);
}

static void
on_agreement_selected (LkLabelView *self)
{
  const char *name = lk_source_dropdown_get_name (self->agreement_dropdown);

  if (self->syncing || name == NULL || g_strcmp0 (name, self->agreement) == 0)
    return;
  g_free (self->agreement);
  self->agreement = g_strdup (name);
  self->agreement_chosen = TRUE;
  for (guint i = 0; i < N_SOURCES; i++)
    lk_source_slot_retry (self->slot[i]);
  refresh (self);
}

static void
reset (LkLabelView *self)
{
  g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  self->cancellable = g_cancellable_new ();
  for (guint i = 0; i < N_SOURCES; i++)
    lk_source_slot_set_service (self->slot[i], self->service);
  drop_ahead (self);
  g_clear_pointer (&self->current, g_free);
  g_clear_pointer (&self->deck, lk_query_deck_free);
  g_clear_pointer (&self->collection, lk_collection_unref);
  g_clear_pointer (&self->path, g_free);
  g_array_set_size (self->answers, 0);
  self->loaded = FALSE;
  self->choosing = FALSE;
  self->exhausted = FALSE;
  self->n_writing = 0;   /* those of the old file are not waited for */
  gtk_revealer_set_reveal_child (self->progress_revealer, FALSE);
  gtk_info_bar_set_revealed (self->error_bar, FALSE);
}

static void
on_collection_changed (LkLabelView *self)
{
  LkCollection *coll = lk_session_get_collection (self->session);

  /* Answers still being written belong to the old file: they go on. */
  reset (self);
  if (coll != NULL)
    {
      const char *id = lk_collection_get_id (coll);

      self->collection = lk_collection_ref (coll);
      self->path = lk_triplets_default_path (coll);
      /* The same order of queries for the same collection, every time. */
      self->deck = lk_query_deck_new (lk_collection_get_n_images (coll), NULL, 0,
                                      lk_hash64 (id, strlen (id), 0));
      g_rand_set_seed (self->rand, (guint32) lk_hash64 (id, strlen (id), 1));
      fill_dropdown (self);
      load_answers (self);
    }
  refresh (self);
  notify_busy (self);
}

/* Object -------------------------------------------------------------------------------------------- */

static void
lk_label_view_map (GtkWidget *widget)
{
  LkLabelView *self = LK_LABEL_VIEW (widget);
  GtkRoot *root;
  GtkWidget *focus;

  GTK_WIDGET_CLASS (lk_label_view_parent_class)->map (widget);
  refresh (self);
  /* The answer keys work while the focus is in the view. */
  root = gtk_widget_get_root (widget);
  focus = root != NULL ? gtk_root_get_focus (root) : NULL;
  if (focus == NULL || !gtk_widget_is_ancestor (focus, widget))
    gtk_widget_grab_focus (self->a_button);
}

static void
lk_label_view_dispose (GObject *object)
{
  LkLabelView *self = LK_LABEL_VIEW (object);

  lk_label_view_set_session (self, NULL);
  g_clear_handle_id (&self->notify_source, g_source_remove);
  gtk_widget_dispose_template (GTK_WIDGET (self), LK_TYPE_LABEL_VIEW);
  G_OBJECT_CLASS (lk_label_view_parent_class)->dispose (object);
}

static void
lk_label_view_finalize (GObject *object)
{
  LkLabelView *self = LK_LABEL_VIEW (object);

  g_clear_object (&self->cancellable);
  g_array_unref (self->answers);
  g_rand_free (self->rand);
  g_free (self->agreement);
  for (guint i = 0; i < N_SOURCES; i++)
    g_clear_object (&self->slot[i]);
  G_OBJECT_CLASS (lk_label_view_parent_class)->finalize (object);
}

static void
lk_label_view_get_property (GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  LkLabelView *self = LK_LABEL_VIEW (object);

  switch (prop_id)
    {
    case PROP_SESSION:
      g_value_set_object (value, self->session);
      break;
    case PROP_BUSY:
      g_value_set_boolean (value, lk_label_view_get_busy (self));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
lk_label_view_set_property (GObject *object, guint prop_id, const GValue *value, GParamSpec *pspec)
{
  LkLabelView *self = LK_LABEL_VIEW (object);

  switch (prop_id)
    {
    case PROP_SESSION:
      lk_label_view_set_session (self, g_value_get_object (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

/* The keys, in the capture phase: they answer even when a button has
 * the focus (Space would otherwise press it). */
static void
add_key (GtkShortcutController *controller, guint keyval, GdkModifierType modifiers,
         const char *action, const char *rating)
{
  GtkShortcut *shortcut = gtk_shortcut_new (gtk_keyval_trigger_new (keyval, modifiers),
                                            gtk_named_action_new (action));

  if (rating != NULL)
    gtk_shortcut_set_arguments (shortcut, g_variant_new_string (rating));
  gtk_shortcut_controller_add_shortcut (controller, shortcut);
}

static void
add_keys (LkLabelView *self)
{
  GtkEventController *controller = gtk_shortcut_controller_new ();
  GtkShortcutController *sc = GTK_SHORTCUT_CONTROLLER (controller);

  gtk_event_controller_set_propagation_phase (controller, GTK_PHASE_CAPTURE);
  add_key (sc, GDK_KEY_1, 0, "label.answer", "A");
  add_key (sc, GDK_KEY_KP_1, 0, "label.answer", "A");
  add_key (sc, GDK_KEY_2, 0, "label.answer", "B");
  add_key (sc, GDK_KEY_KP_2, 0, "label.answer", "B");
  add_key (sc, GDK_KEY_3, 0, "label.answer", "both-similar");
  add_key (sc, GDK_KEY_KP_3, 0, "label.answer", "both-similar");
  add_key (sc, GDK_KEY_4, 0, "label.answer", "both-dissimilar");
  add_key (sc, GDK_KEY_KP_4, 0, "label.answer", "both-dissimilar");
  add_key (sc, GDK_KEY_space, 0, "label.answer", "skip");
  add_key (sc, GDK_KEY_z, GDK_CONTROL_MASK, "label.undo", NULL);
  gtk_widget_add_controller (GTK_WIDGET (self), controller);
}

static void
lk_label_view_class_init (LkLabelViewClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = lk_label_view_dispose;
  object_class->finalize = lk_label_view_finalize;
  object_class->get_property = lk_label_view_get_property;
  object_class->set_property = lk_label_view_set_property;
  widget_class->map = lk_label_view_map;

  properties[PROP_SESSION] = lk_session_binding_param_spec ();
  properties[PROP_BUSY] =
    g_param_spec_boolean ("busy", NULL, NULL, FALSE, G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  g_type_ensure (LK_TYPE_STATUS_PAGE);
  g_type_ensure (LK_TYPE_THUMBNAIL);
  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/app/likeness/Likeness/lk-label-view.ui");
  gtk_widget_class_bind_template_child (widget_class, LkLabelView, scroller);
  gtk_widget_class_bind_template_child (widget_class, LkLabelView, reason_label);
  gtk_widget_class_bind_template_child (widget_class, LkLabelView, agreement_dropdown);
  gtk_widget_class_bind_template_child (widget_class, LkLabelView, progress_revealer);
  gtk_widget_class_bind_template_child (widget_class, LkLabelView, progress_label);
  gtk_widget_class_bind_template_child (widget_class, LkLabelView, progress_bar);
  gtk_widget_class_bind_template_child (widget_class, LkLabelView, error_bar);
  gtk_widget_class_bind_template_child (widget_class, LkLabelView, error_label);
  gtk_widget_class_bind_template_child (widget_class, LkLabelView, stack);
  gtk_widget_class_bind_template_child (widget_class, LkLabelView, status_page);
  gtk_widget_class_bind_template_child (widget_class, LkLabelView, query_thumbnail);
  gtk_widget_class_bind_template_child (widget_class, LkLabelView, a_thumbnail);
  gtk_widget_class_bind_template_child (widget_class, LkLabelView, b_thumbnail);
  gtk_widget_class_bind_template_child (widget_class, LkLabelView, query_label);
  gtk_widget_class_bind_template_child (widget_class, LkLabelView, a_label);
  gtk_widget_class_bind_template_child (widget_class, LkLabelView, b_label);
  gtk_widget_class_bind_template_child (widget_class, LkLabelView, a_button);
  gtk_widget_class_bind_template_child (widget_class, LkLabelView, tally_label);
  gtk_widget_class_bind_template_callback (widget_class, on_agreement_selected);
  gtk_widget_class_bind_template_callback (widget_class, on_error_response);

  gtk_widget_class_install_action (widget_class, "label.answer", "s", answer_action);
  gtk_widget_class_install_action (widget_class, "label.undo", NULL, undo_action);
  gtk_widget_class_install_action (widget_class, "label.cancel", NULL, cancel_action);

  gtk_widget_class_set_layout_manager_type (widget_class, GTK_TYPE_BIN_LAYOUT);
  gtk_widget_class_set_css_name (widget_class, "labelview");
}

static void
lk_label_view_init (LkLabelView *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
  self->answers = g_array_new (FALSE, FALSE, sizeof (Answer));
  self->rand = g_rand_new_with_seed (1);
  self->cancellable = g_cancellable_new ();
  g_queue_init (&self->ahead);
  for (guint i = 0; i < N_SOURCES; i++)
    {
      self->slot[i] = lk_source_slot_new ();
      g_signal_connect_swapped (self->slot[i], "changed", G_CALLBACK (on_slot_changed), self);
    }
  lk_source_slot_set_name (self->slot[REF], REFERENCE);
  add_keys (self);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "label.answer", FALSE);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "label.undo", FALSE);
}

GtkWidget *
lk_label_view_new (LkSession *session)
{
  return g_object_new (LK_TYPE_LABEL_VIEW, "session", session, NULL);
}

void
lk_label_view_set_session (LkLabelView *self, LkSession *session)
{
  g_return_if_fail (LK_IS_LABEL_VIEW (self));
  g_return_if_fail (session == NULL || LK_IS_SESSION (session));

  static const LkSessionSignal follow[] = {
    { LK_SESSION_PART_SESSION, "notify::collection", G_CALLBACK (on_collection_changed) },
    { LK_SESSION_PART_SERVICE, "sources-changed", G_CALLBACK (on_sources_changed) },
    { LK_SESSION_PART_SERVICE, "triplets-changed", G_CALLBACK (refresh) },
    { LK_SESSION_PART_SERVICE, "prepare-progress", G_CALLBACK (on_prepare_progress) },
  };

  if (self->session == session)
    return;
  lk_session_binding_release (self, self->session);
  reset (self);
  g_set_object (&self->session, session);
  g_clear_object (&self->service);
  if (session != NULL)
    self->service = g_object_ref (lk_session_get_search_service (session));
  for (guint i = 0; i < N_SOURCES; i++)
    lk_source_slot_set_service (self->slot[i], self->service);
  if (session != NULL)
    {
      LkThumbnailer *thumbnailer = lk_session_get_thumbnailer (session);

      lk_thumbnail_set_thumbnailer (self->query_thumbnail, thumbnailer);
      lk_thumbnail_set_thumbnailer (self->a_thumbnail, thumbnailer);
      lk_thumbnail_set_thumbnailer (self->b_thumbnail, thumbnailer);
      lk_session_binding_follow (self, session, follow, G_N_ELEMENTS (follow));
      on_collection_changed (self);
    }
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_SESSION]);
}

LkSession *
lk_label_view_get_session (LkLabelView *self)
{
  g_return_val_if_fail (LK_IS_LABEL_VIEW (self), NULL);
  return self->session;
}

/* Test API ------------------------------------------------------------------------------------------- */

gboolean
_lk_label_view_get_triplet (LkLabelView *self, guint32 *query, guint32 *a, guint32 *b)
{
  if (self->current == NULL)
    return FALSE;
  *query = self->current->query;
  *a = self->current->a;
  *b = self->current->b;
  return TRUE;
}

guint
_lk_label_view_get_n_answers (LkLabelView *self)
{
  return self->loaded ? self->answers->len : 0;
}

const char *
_lk_label_view_get_tally (LkLabelView *self)
{
  return gtk_label_get_label (self->tally_label);
}

const char *
_lk_label_view_get_error (LkLabelView *self)
{
  return gtk_info_bar_get_revealed (self->error_bar) ? gtk_label_get_label (self->error_label)
                                                     : NULL;
}

const char *
_lk_label_view_get_reason (LkLabelView *self)
{
  return gtk_label_get_label (self->reason_label);
}

const char *
_lk_label_view_get_agreement_source (LkLabelView *self)
{
  return self->agreement;
}

const char *
_lk_label_view_get_other_source (LkLabelView *self)
{
  return lk_source_slot_get_name (self->slot[OTHER]);
}

GtkDropDown *
_lk_label_view_get_agreement_dropdown (LkLabelView *self)
{
  return self->agreement_dropdown;
}
