/* lk-buffers-view.c — LkBuffersView: a timeout polls the sampler while
 * the page is mapped and a training is active (lk_sampler_snapshot() is
 * a memcpy under the sampler's lock, the copy is sorted by the engine in
 * this thread — microseconds for a few thousand entries), and hands the
 * snapshot to the grid; the triplet cards reuse the grid's thumbnails. */
#include "config.h"

#include <glib/gi18n.h>
#include <inttypes.h>

#include "lk-buffers-view-private.h"
#include "lk-session-binding.h"
#include "lk-status-page.h"

typedef struct {
  GtkWidget  *card;
  GtkPicture *pictures[3];
  GtkLabel   *caption;
} Card;

struct _LkBuffersView
{
  GtkWidget        parent_instance;

  /* Template widgets */
  GtkStack        *stack;
  LkStatusPage    *status_page;
  GtkLabel        *title_label;
  GtkLabel        *state_label;
  GtkLabel        *counts_label;
  GtkBox          *triplets_box;
  LkBufferGrid    *grid;

  Card             cards[LK_BUFFERS_VIEW_TRIPLETS];

  /* Owned */
  LkSession       *session;
  LkTraining      *training;
  guint            poll_source;
  guint            n_polls;
  guint            n_triplets;
};

G_DEFINE_FINAL_TYPE (LkBuffersView, lk_buffers_view, GTK_TYPE_WIDGET)

enum {
  PROP_0,
  PROP_SESSION,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static LkSampler *
current_sampler (LkBuffersView *self)
{
  LkTrainer *trainer = self->training != NULL ? lk_training_get_trainer (self->training) : NULL;
  return trainer != NULL ? lk_trainer_get_sampler (trainer) : NULL;
}

static void
show_empty (LkBuffersView *self)
{
  const LkTrainProgress *p = lk_training_get_progress (self->training);
  g_autofree char *text = NULL;

  gtk_stack_set_visible_child_name (self->stack, "empty");
  if (lk_training_get_active (self->training))
    {
      lk_status_page_set_title (self->status_page, _("The Buffers Fill in the Ranking Stage"));
      if (p->stage == LK_TRAIN_STAGE_PRETRAIN && p->stage_steps > 0)
        /* TRANSLATORS: Buffers' empty state while pre-training: step, steps of that stage */
        text = g_strdup_printf (_("Pre-training as a classifier: step %'" PRIu64
                                  " of %'" PRIu64 ". Then the online sampler streams "
                                  "the images through one buffer per category and draws "
                                  "triplets from them."), p->stage_step, p->stage_steps);
      else
        text = g_strdup (_("The online sampler is made when the ranking stage starts: it "
                           "streams the images through one buffer per category and draws "
                           "triplets from them."));
      lk_status_page_set_description (self->status_page, text);
    }
  else
    {
      lk_status_page_set_title (self->status_page, _("Nothing Is Training"));
      lk_status_page_set_description (self->status_page,
                                      _("Start a training in the Training view: once it ranks, "
                                        "this page shows every category’s buffer filling and "
                                        "the triplets drawn from them."));
    }
}

static void
set_picture (LkBuffersView *self, GtkPicture *picture, guint32 image)
{
  GdkTexture *t = lk_buffer_grid_get_texture (self->grid, image, TRUE);
  gtk_picture_set_paintable (picture, GDK_PAINTABLE (t));
}

static void
show_triplets (LkBuffersView *self, const LkSamplerSnapshot *s, LkCollection *coll)
{
  self->n_triplets = MIN (s->n_recent, LK_BUFFERS_VIEW_TRIPLETS);
  for (guint i = 0; i < LK_BUFFERS_VIEW_TRIPLETS; i++)
    {
      Card *card = &self->cards[i];
      const LkDrawnTriplet *d;
      g_autofree char *caption = NULL, *name = NULL;

      gtk_widget_set_visible (card->card, i < self->n_triplets);
      if (i >= self->n_triplets)
        continue;
      d = &s->recent[i];
      set_picture (self, card->pictures[0], d->triplet.query);
      set_picture (self, card->pictures[1], d->triplet.positive);
      set_picture (self, card->pictures[2], d->triplet.negative);
      if (d->out_of_class)
        /* TRANSLATORS: a triplet's caption: r(q,p), and the negative from another category */
        caption = g_strdup_printf (_("r⁺ %.2f · other category"), d->r_positive);
      else
        /* TRANSLATORS: a triplet's caption: r(q,p) and r(q,n) */
        caption = g_strdup_printf (_("r⁺ %.2f · r⁻ %.2f"), d->r_positive, d->r_negative);
      gtk_label_set_label (card->caption, caption);
      /* TRANSLATORS: a triplet card's accessible name: the query, positive and negative
       * categories, then the relevance caption */
      name = g_strdup_printf (_("Triplet: query %s, positive %s, negative %s; %s"),
                              lk_collection_get_category_name (coll,
                                lk_collection_get_label (coll, d->triplet.query)),
                              lk_collection_get_category_name (coll,
                                lk_collection_get_label (coll, d->triplet.positive)),
                              lk_collection_get_category_name (coll,
                                lk_collection_get_label (coll, d->triplet.negative)),
                              caption);
      gtk_accessible_update_property (GTK_ACCESSIBLE (card->card), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                      name, -1);
    }
}

static void
show_counts (LkBuffersView *self, const LkSamplerSnapshot *s)
{
  const LkSamplerCounts *c = &s->counts;
  g_autofree char *text = NULL;
  guint filled = 0;

  for (guint i = 0; i < s->n_categories; i++)
    filled += s->fill[i];
  /* TRANSLATORS: the sampler's counts in the Buffers view */
  text = g_strdup_printf (_("%'u images buffered in %u categories (buffers of %u) · epoch %u · "
                            "%'" PRIu64 " images streamed, %'" PRIu64
                            " evicted · %'" PRIu64 " triplets drawn, %.0f%% with a "
                            "negative from another category · T_p %.2f, T_r %.2f"),
                          filled, s->n_categories, s->buffer_size, c->epoch, c->images_streamed,
                          c->images_evicted, c->triplets,
                          c->triplets > 0 ? 100.0 * c->out_of_class / c->triplets : 0.0, s->t_p,
                          s->t_r);
  gtk_label_set_label (self->counts_label, text);
}

static void
poll_once (LkBuffersView *self)
{
  LkSampler *sampler = current_sampler (self);
  LkCollection *coll = lk_training_get_collection (self->training);
  LkSamplerSnapshot *s;
  g_autofree char *title = NULL;

  if (sampler == NULL || coll == NULL)
    {
      show_empty (self);
      return;
    }
  s = lk_sampler_snapshot (sampler);
  self->n_polls++;
  /* The sampler is made while preparing, but nothing streams through it
   * before the ranking stage. */
  if (s->counts.images_streamed == 0 &&
      lk_training_get_progress (self->training)->stage != LK_TRAIN_STAGE_RANKING)
    {
      lk_sampler_snapshot_free (s);
      show_empty (self);
      return;
    }
  /* TRANSLATORS: the Buffers view's title: the model, its collection */
  title = g_strdup_printf (_("Sampler of “%s” on %s"), lk_training_get_name (self->training),
                           lk_collection_get_name (coll));
  gtk_label_set_label (self->title_label, title);
  gtk_label_set_label (self->state_label, lk_training_get_active (self->training)
                                          ? _("Live") : _("Training ended: the last state"));
  show_counts (self, s);
  lk_buffer_grid_set_snapshot (self->grid, coll, s);
  show_triplets (self, s, coll);
  gtk_stack_set_visible_child_name (self->stack, "buffers");
}

static gboolean
poll_timeout (gpointer data)
{
  LkBuffersView *self = data;

  poll_once (self);
  if (!lk_training_get_active (self->training))
    {
      self->poll_source = 0;
      return G_SOURCE_REMOVE;
    }
  return G_SOURCE_CONTINUE;
}

/* Polls while shown and a training is active; one last look when it ends. */
static void
update_polling (LkBuffersView *self)
{
  gboolean want = self->training != NULL && gtk_widget_get_mapped (GTK_WIDGET (self)) &&
                  lk_training_get_active (self->training);

  if (want && self->poll_source == 0)
    self->poll_source = g_timeout_add (LK_BUFFERS_VIEW_INTERVAL_MS, poll_timeout, self);
  else if (!want)
    g_clear_handle_id (&self->poll_source, g_source_remove);
  if (self->training != NULL)
    poll_once (self);
}

static void
on_progress (LkBuffersView *self)
{
  /* The empty state's step count, before the sampler streams. */
  if (gtk_widget_get_mapped (GTK_WIDGET (self)) &&
      g_strcmp0 (gtk_stack_get_visible_child_name (self->stack), "empty") == 0 &&
      (current_sampler (self) == NULL ||
       lk_training_get_progress (self->training)->stage != LK_TRAIN_STAGE_RANKING))
    show_empty (self);
}

/* Object --------------------------------------------------------------------------------- */

static void
lk_buffers_view_map (GtkWidget *widget)
{
  GTK_WIDGET_CLASS (lk_buffers_view_parent_class)->map (widget);
  update_polling (LK_BUFFERS_VIEW (widget));
}

static void
lk_buffers_view_unmap (GtkWidget *widget)
{
  LkBuffersView *self = LK_BUFFERS_VIEW (widget);

  g_clear_handle_id (&self->poll_source, g_source_remove);
  GTK_WIDGET_CLASS (lk_buffers_view_parent_class)->unmap (widget);
}

static void
lk_buffers_view_dispose (GObject *object)
{
  LkBuffersView *self = LK_BUFFERS_VIEW (object);

  lk_buffers_view_set_session (self, NULL);
  g_clear_handle_id (&self->poll_source, g_source_remove);
  gtk_widget_dispose_template (GTK_WIDGET (self), LK_TYPE_BUFFERS_VIEW);
  G_OBJECT_CLASS (lk_buffers_view_parent_class)->dispose (object);
}

static void
lk_buffers_view_get_property (GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  LkBuffersView *self = LK_BUFFERS_VIEW (object);

  switch (prop_id)
    {
    case PROP_SESSION:
      g_value_set_object (value, self->session);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
lk_buffers_view_set_property (GObject *object, guint prop_id, const GValue *value,
                              GParamSpec *pspec)
{
  LkBuffersView *self = LK_BUFFERS_VIEW (object);

  switch (prop_id)
    {
    case PROP_SESSION:
      lk_buffers_view_set_session (self, g_value_get_object (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
lk_buffers_view_class_init (LkBuffersViewClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = lk_buffers_view_dispose;
  object_class->get_property = lk_buffers_view_get_property;
  object_class->set_property = lk_buffers_view_set_property;
  widget_class->map = lk_buffers_view_map;
  widget_class->unmap = lk_buffers_view_unmap;

  properties[PROP_SESSION] = lk_session_binding_param_spec ();
  g_object_class_install_properties (object_class, N_PROPS, properties);

  g_type_ensure (LK_TYPE_BUFFER_GRID);
  g_type_ensure (LK_TYPE_STATUS_PAGE);
  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/app/likeness/Likeness/lk-buffers-view.ui");
  gtk_widget_class_bind_template_child (widget_class, LkBuffersView, stack);
  gtk_widget_class_bind_template_child (widget_class, LkBuffersView, status_page);
  gtk_widget_class_bind_template_child (widget_class, LkBuffersView, title_label);
  gtk_widget_class_bind_template_child (widget_class, LkBuffersView, state_label);
  gtk_widget_class_bind_template_child (widget_class, LkBuffersView, counts_label);
  gtk_widget_class_bind_template_child (widget_class, LkBuffersView, triplets_box);
  gtk_widget_class_bind_template_child (widget_class, LkBuffersView, grid);

  gtk_widget_class_set_layout_manager_type (widget_class, GTK_TYPE_BIN_LAYOUT);
  gtk_widget_class_set_css_name (widget_class, "buffersview");
}

static void
make_cards (LkBuffersView *self)
{
  const char *roles[3] = { N_("query"), N_("positive"), N_("negative") };

  for (guint i = 0; i < LK_BUFFERS_VIEW_TRIPLETS; i++)
    {
      Card *card = &self->cards[i];
      GtkWidget *row = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 3);
      GtkWidget *caption = gtk_label_new (NULL);

      card->card = g_object_new (GTK_TYPE_BOX, "orientation", GTK_ORIENTATION_VERTICAL,
                                 "spacing", 3, "accessible-role", GTK_ACCESSIBLE_ROLE_GROUP,
                                 NULL);
      for (guint k = 0; k < 3; k++)
        {
          GtkWidget *picture = gtk_picture_new ();
          gtk_picture_set_can_shrink (GTK_PICTURE (picture), TRUE);
          gtk_widget_set_size_request (picture, 48, 48);
          gtk_widget_set_tooltip_text (picture, _(roles[k]));
          gtk_picture_set_alternative_text (GTK_PICTURE (picture), _(roles[k]));
          if (k == 0)
            gtk_widget_set_margin_end (picture, 4);
          gtk_box_append (GTK_BOX (row), picture);
          card->pictures[k] = GTK_PICTURE (picture);
        }
      gtk_widget_add_css_class (caption, "caption");
      gtk_widget_add_css_class (caption, "numeric");
      gtk_box_append (GTK_BOX (card->card), row);
      gtk_box_append (GTK_BOX (card->card), caption);
      card->caption = GTK_LABEL (caption);
      gtk_widget_set_visible (card->card, FALSE);
      gtk_box_append (self->triplets_box, card->card);
    }
}

static void
lk_buffers_view_init (LkBuffersView *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
  make_cards (self);
}

GtkWidget *
lk_buffers_view_new (LkSession *session)
{
  return g_object_new (LK_TYPE_BUFFERS_VIEW, "session", session, NULL);
}

void
lk_buffers_view_set_session (LkBuffersView *self, LkSession *session)
{
  g_return_if_fail (LK_IS_BUFFERS_VIEW (self));
  g_return_if_fail (session == NULL || LK_IS_SESSION (session));

  static const LkSessionSignal follow[] = {
    { LK_SESSION_PART_TRAINING, "notify::active", G_CALLBACK (update_polling) },
    { LK_SESSION_PART_TRAINING, "progress", G_CALLBACK (on_progress) },
  };

  if (self->session == session)
    return;
  lk_session_binding_release (self, self->session);
  g_set_object (&self->session, session);
  g_clear_object (&self->training);
  g_clear_handle_id (&self->poll_source, g_source_remove);
  if (session != NULL)
    {
      self->training = g_object_ref (lk_session_get_training (session));
      lk_session_binding_follow (self, session, follow, G_N_ELEMENTS (follow));
      update_polling (self);
    }
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_SESSION]);
}

LkSession *
lk_buffers_view_get_session (LkBuffersView *self)
{
  g_return_val_if_fail (LK_IS_BUFFERS_VIEW (self), NULL);
  return self->session;
}

/* Test API ---------------------------------------------------------------------------------- */

const char *
_lk_buffers_view_get_page (LkBuffersView *self)
{
  return gtk_stack_get_visible_child_name (self->stack);
}

const char *
_lk_buffers_view_get_status_title (LkBuffersView *self)
{
  return lk_status_page_get_title (self->status_page);
}

LkBufferGrid *
_lk_buffers_view_get_grid (LkBuffersView *self)
{
  return self->grid;
}

guint
_lk_buffers_view_get_n_polls (LkBuffersView *self)
{
  return self->n_polls;
}

guint
_lk_buffers_view_get_n_triplets (LkBuffersView *self)
{
  return self->n_triplets;
}

GtkPicture *
_lk_buffers_view_get_picture (LkBuffersView *self, guint card, guint which)
{
  g_return_val_if_fail (card < LK_BUFFERS_VIEW_TRIPLETS && which < 3, NULL);
  return self->cards[card].pictures[which];
}

const char *
_lk_buffers_view_get_caption (LkBuffersView *self, guint card)
{
  g_return_val_if_fail (card < LK_BUFFERS_VIEW_TRIPLETS, NULL);
  return gtk_label_get_label (self->cards[card].caption);
}
