/* lk-query-view.c — LkQueryView: follows the session's activated image
 * (or file), gets the chosen sources' indexes ready through the search
 * service, and shows each source's neighbours in an LkNeighbourGrid.
 *
 * Indexes are built only while the view is on screen (the first time
 * takes seconds: progress and Stop are shown); once they are in memory
 * a query costs a few milliseconds in a worker, so a new activated image
 * is answered even while the view is hidden, and switching to it shows
 * the answer at once. */
#include "config.h"

#include <glib/gi18n.h>

#include "lk-neighbour-grid.h"
#include "lk-query-view-private.h"
#include "lk-session-binding.h"
#include "lk-source-dropdown.h"
#include "lk-source-slot.h"
#include "lk-status-page.h"
#include "lk-thumbnail.h"
#include "lk-thumbnailer-private.h"
#include "lk-weak-ref.h"

#define N_SIDES 2
#define PICTURE_SIZE 224
#define DEFAULT_SOURCE "golden"
#define DEFAULT_SECOND "pixels"

struct _LkQueryView
{
  GtkWidget             parent_instance;

  /* Template widgets */
  GtkStack             *stack;
  GtkStack             *preview_stack;
  LkThumbnail          *query_thumbnail;
  GtkPicture           *query_picture;
  GtkLabel             *query_name_label;
  GtkLabel             *query_detail_label;
  GtkDropDown          *source_dropdown;
  GtkDropDown          *second_dropdown;
  GtkCheckButton       *compare_check;
  GtkCheckButton       *category_check;
  GtkSpinButton        *k_spin;
  GtkRevealer          *progress_revealer;
  GtkLabel             *progress_label;
  GtkProgressBar       *progress_bar;
  LkNeighbourGrid      *first_grid;
  LkNeighbourGrid      *second_grid;
  GtkWidget            *second_pane;

  /* Owned */
  LkSession            *session;
  LkSearchService      *service;
  LkSourceSlot         *slot[N_SIDES];
  gboolean              second_chosen;        /* by the person, not by default */
  GCancellable         *query_cancellable;
  GCancellable         *picture_cancellable;
  GtkNativeDialog      *chooser;
  int                   image;                /* the query, or -1 */
  char                 *file;                 /* or an outside file */
  gint64                requested_at;         /* when the query was asked for */
  double                latency_ms;           /* request to results in the grid, last query */
  double                paint_latency_ms;     /* request to the first frame drawn with them */
  double                search_ms;            /* of that, in the worker (the slower side) */
  gint64                started_at;           /* when the worker was asked */
  gulong                after_paint_handler;
  guint                 n_answered;
  gboolean              querying;
  gboolean              syncing;              /* dropdown changes made by us */
};

G_DEFINE_FINAL_TYPE (LkQueryView, lk_query_view, GTK_TYPE_WIDGET)

enum {
  PROP_0,
  PROP_SESSION,
  PROP_BUSY,
  PROP_COMPARE,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static void refresh (LkQueryView *self);
static void watch_next_frame (LkQueryView *self);

static LkNeighbourGrid *
grid_of (LkQueryView *self, guint side)
{
  return side == 0 ? self->first_grid : self->second_grid;
}

static guint
n_sides (LkQueryView *self)
{
  return gtk_check_button_get_active (self->compare_check) ? 2 : 1;
}

static LkCollection *
collection_of (LkQueryView *self)
{
  return self->session != NULL ? lk_session_get_collection (self->session) : NULL;
}

static void
notify_busy (LkQueryView *self)
{
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_BUSY]);
}

gboolean
lk_query_view_get_busy (LkQueryView *self)
{
  g_return_val_if_fail (LK_IS_QUERY_VIEW (self), FALSE);
  if (self->querying)
    return TRUE;
  if (self->image < 0 && self->file == NULL)
    return FALSE;
  for (guint i = 0; i < n_sides (self); i++)
    if (lk_source_slot_get_waiting (self->slot[i]))
      return TRUE;
  return FALSE;
}

/* The query's header ------------------------------------------------------------ */

static void
on_picture_loaded (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr(LkQueryView) self = lk_weak_ref_steal (user_data);
  g_autoptr(GdkTexture) texture = g_task_propagate_pointer (G_TASK (result), NULL);

  if (self == NULL || texture == NULL || self->session == NULL)
    return;
  gtk_picture_set_paintable (self->query_picture, GDK_PAINTABLE (texture));
}

static void
load_picture_thread (GTask *task, gpointer source, gpointer path, GCancellable *cancellable)
{
  LkScanOptions options;
  GError *error = NULL;
  GdkTexture *texture;

  lk_scan_options_init (&options);
  texture = _lk_thumbnail_from_file (path, PICTURE_SIZE, options.max_pixels, &error);
  if (texture != NULL)
    g_task_return_pointer (task, texture, g_object_unref);
  else
    g_task_return_error (task, error);
}

static void
show_query_header (LkQueryView *self)
{
  LkCollection *coll = collection_of (self);

  if (self->file != NULL)
    {
      g_autoptr(GTask) task = NULL;
      g_autofree char *name = g_filename_display_basename (self->file);

      g_cancellable_cancel (self->picture_cancellable);
      g_clear_object (&self->picture_cancellable);
      self->picture_cancellable = g_cancellable_new ();
      gtk_picture_set_paintable (self->query_picture, NULL);
      task = g_task_new (NULL, self->picture_cancellable, on_picture_loaded,
                         lk_weak_ref_new (self));
      g_task_set_task_data (task, g_strdup (self->file), g_free);
      g_task_run_in_thread (task, load_picture_thread);
      gtk_stack_set_visible_child_name (self->preview_stack, "file");
      gtk_label_set_label (self->query_name_label, name);
      gtk_label_set_label (self->query_detail_label, _("An image file from outside the collection"));
      gtk_widget_set_sensitive (GTK_WIDGET (self->category_check), FALSE);
    }
  else if (self->image >= 0 && coll != NULL)
    {
      g_autoptr(LkImageItem) item = lk_image_item_new (coll, (guint) self->image);
      g_autofree char *name = lk_image_item_dup_display_name (item);

      lk_thumbnail_set_item (self->query_thumbnail, item);
      gtk_stack_set_visible_child_name (self->preview_stack, "image");
      gtk_label_set_label (self->query_name_label, name);
      gtk_label_set_label (self->query_detail_label, lk_image_item_get_category_name (item));
      gtk_widget_set_sensitive (GTK_WIDGET (self->category_check), TRUE);
    }
}

/* Progress of the sources being prepared ------------------------------------------ */

static void
on_prepare_progress (LkQueryView *self, const char *name, guint done, guint total)
{
  for (guint i = 0; i < n_sides (self); i++)
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

static void
update_progress_shown (LkQueryView *self)
{
  gboolean waiting = FALSE;

  for (guint i = 0; i < n_sides (self); i++)
    waiting |= lk_source_slot_get_waiting (self->slot[i]);
  if (!waiting || (self->image < 0 && self->file == NULL))
    gtk_revealer_set_reveal_child (self->progress_revealer, FALSE);
}

/* Preparing the sources ------------------------------------------------------------- */

/* A side's source is ready, or could not be. */
static void
on_slot_changed (LkQueryView *self, LkSourceSlot *slot)
{
  update_progress_shown (self);
  refresh (self);
  notify_busy (self);
}

/* Gets the sides' indexes; asks for them only while shown, since the
 * first build of a source takes seconds of both cores. */
static gboolean
prepare_sides (LkQueryView *self)
{
  gboolean mapped = gtk_widget_get_mapped (GTK_WIDGET (self));
  gboolean ready = TRUE;

  for (guint i = 0; i < n_sides (self); i++)
    {
      LkSourceSlot *slot = self->slot[i];
      LkNeighbourGrid *grid = grid_of (self, i);

      if (lk_source_slot_update (slot, mapped))
        continue;
      ready = FALSE;
      if (lk_source_slot_get_error (slot) != NULL)
        {
          lk_neighbour_grid_set_title (grid, lk_source_slot_get_label (slot));
          lk_neighbour_grid_set_detail (grid, NULL);
          lk_neighbour_grid_show_message (grid, lk_source_slot_get_stopped (slot)
                                          ? _("Stopped. Choose an image or a source to start again.")
                                          : lk_source_slot_get_error (slot));
        }
      else if (lk_source_slot_get_pending (slot) &&
               (lk_neighbour_grid_get_message (grid) != NULL ||
                g_list_model_get_n_items (lk_neighbour_grid_get_model (grid)) == 0))
        {
          lk_neighbour_grid_set_title (grid, lk_source_slot_get_label (slot));
          lk_neighbour_grid_set_detail (grid, NULL);
          lk_neighbour_grid_show_message (grid, _("Getting the source ready…"));
        }
    }
  return ready;
}

/* Querying -------------------------------------------------------------------------- */

static void
show_list (LkQueryView *self, guint side, const LkQueryList *list)
{
  LkNeighbourGrid *grid = grid_of (self, side);
  g_autofree char *detail = NULL;

  lk_neighbour_grid_set_title (grid, list->label);
  if (list->error != NULL)
    {
      lk_neighbour_grid_set_detail (grid, NULL);
      lk_neighbour_grid_show_message (grid, list->error);
      return;
    }
  /* TRANSLATORS: under a list of neighbours: how many, and the search time in ms */
  detail = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "%u neighbour in %.1f ms",
                                         "%u neighbours in %.1f ms", list->n),
                            list->n, list->search_ms);
  lk_neighbour_grid_set_detail (grid, detail);
  if (list->n == 0)
    lk_neighbour_grid_show_message (grid, _("No other image to rank."));
  else
    lk_neighbour_grid_set_neighbours (grid, collection_of (self), list->neighbours, list->n);
}

static void
on_query_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr(LkQueryView) self = lk_weak_ref_steal (user_data);
  g_autoptr(GError) error = NULL;
  g_autoptr(LkQueryResult) r = lk_search_service_query_finish (LK_SEARCH_SERVICE (source), result,
                                                               &error);
  gint64 taken_at;

  if (self == NULL || self->session == NULL)
    return;
  if (r == NULL)
    {
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        {
          self->querying = FALSE;
          lk_neighbour_grid_show_message (self->first_grid, error->message);
          notify_busy (self);
        }
      return;
    }
  self->querying = FALSE;
  if (collection_of (self) == NULL)
    return;
  taken_at = g_get_monotonic_time ();
  for (guint i = 0; i < r->n_lists && i < N_SIDES; i++)
    show_list (self, i, &r->lists[i]);
  self->latency_ms = (g_get_monotonic_time () - self->requested_at) / 1e3;
  self->search_ms = 0;
  for (guint i = 0; i < r->n_lists; i++)
    self->search_ms = MAX (self->search_ms, r->lists[i].search_ms);
  self->n_answered++;
  watch_next_frame (self);
  if (g_getenv ("LIKENESS_DEBUG_QUERY") != NULL)
    g_printerr ("likeness: query answered %.1f ms after it was asked (%s%s%s): %.1f ms until "
                "the worker was asked, %.1f until it ran, %.1f ms searching, %.1f ms until the "
                "main loop took the result, %.1f ms showing it\n",
                self->latency_ms, r->lists[0].source, r->n_lists > 1 ? ", " : "",
                r->n_lists > 1 ? r->lists[1].source : "",
                (self->started_at - self->requested_at) / 1e3,
                (r->started_at - self->started_at) / 1e3, self->search_ms,
                (taken_at - r->done_at) / 1e3, (g_get_monotonic_time () - taken_at) / 1e3);
  notify_busy (self);
}

static void
on_after_paint (GdkFrameClock *clock, LkQueryView *self)
{
  self->paint_latency_ms = (g_get_monotonic_time () - self->requested_at) / 1e3;
  g_clear_signal_handler (&self->after_paint_handler, clock);
  if (g_getenv ("LIKENESS_DEBUG_QUERY") != NULL)
    g_printerr ("likeness: … and on screen %.1f ms after it was asked\n", self->paint_latency_ms);
}

/* What the person sees: the first frame drawn after the results. */
static void
watch_next_frame (LkQueryView *self)
{
  GdkFrameClock *clock = gtk_widget_get_frame_clock (GTK_WIDGET (self));

  if (clock == NULL || !gtk_widget_get_mapped (GTK_WIDGET (self)))
    return;
  if (self->after_paint_handler != 0)
    g_clear_signal_handler (&self->after_paint_handler, clock);
  self->paint_latency_ms = 0;
  self->after_paint_handler = g_signal_connect (clock, "after-paint",
                                                G_CALLBACK (on_after_paint), self);
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

static void
run_query (LkQueryView *self)
{
  LkQuerySpec spec = { 0 };
  LkSourceIndex *indexes[N_SIDES];

  g_cancellable_cancel (self->query_cancellable);
  g_clear_object (&self->query_cancellable);
  self->query_cancellable = g_cancellable_new ();
  spec.image = self->file != NULL ? -1 : self->image;
  spec.file = self->file;
  spec.k = (guint) gtk_spin_button_get_value_as_int (self->k_spin);
  spec.same_category = gtk_check_button_get_active (self->category_check);
  self->querying = TRUE;
  self->started_at = g_get_monotonic_time ();
  for (guint i = 0; i < n_sides (self); i++)
    indexes[i] = lk_source_slot_get_index (self->slot[i]);
  lk_search_service_query_async (self->service, indexes, n_sides (self), &spec,
                                 self->query_cancellable, on_query_done, lk_weak_ref_new (self));
  notify_busy (self);
}

/* Brings the page up to date with the query and the controls: shows
 * the header, gets the sources ready, runs the query once they are. */
static void
refresh (LkQueryView *self)
{
  if (self->service == NULL || collection_of (self) == NULL)
    return;
  gtk_widget_set_visible (self->second_pane, n_sides (self) == 2);
  if (self->image < 0 && self->file == NULL)
    {
      gtk_stack_set_visible_child_name (self->stack, "empty");
      /* Shown with no query yet: the sources get ready now (loading a
       * stored source's rows and index takes a second on Fashion-MNIST),
       * so the first click is answered as fast as the next ones. */
      prepare_sides (self);
      update_progress_shown (self);
      return;
    }
  gtk_stack_set_visible_child_name (self->stack, "results");
  if (prepare_sides (self))
    run_query (self);
  update_progress_shown (self);
}

/* A new request: what it costs is measured from here. */
static void
request (LkQueryView *self)
{
  self->requested_at = g_get_monotonic_time ();
  for (guint i = 0; i < N_SIDES; i++)
    lk_source_slot_retry (self->slot[i]);
  refresh (self);
}

/* Following the session -------------------------------------------------------------- */

static void
on_image_activated (LkQueryView *self, guint index)
{
  g_clear_pointer (&self->file, g_free);
  self->image = (int) index;
  show_query_header (self);
  request (self);
}

static void
on_file_activated (LkQueryView *self, const char *path)
{
  g_free (self->file);
  self->file = g_strdup (path);
  self->image = -1;
  show_query_header (self);
  request (self);
}

static void
on_neighbour_activated (LkQueryView *self, guint index)
{
  /* Through the session, so the other views follow too. */
  lk_session_activate_image (self->session, index);
}

static void
fill_dropdowns (LkQueryView *self)
{
  const LkEmbeddingSource *model = lk_search_service_get_newest_model (self->service);
  const char *second_default = model != NULL ? model->name : DEFAULT_SECOND;

  /* Before the first listing: the baselines every collection has, so
   * preparing need not wait for it. */
  if (!lk_search_service_get_sources_listed (self->service))
    {
      if (lk_source_slot_get_name (self->slot[0]) == NULL)
        lk_source_slot_set_name (self->slot[0], DEFAULT_SOURCE);
      if (lk_source_slot_get_name (self->slot[1]) == NULL)
        lk_source_slot_set_name (self->slot[1], DEFAULT_SECOND);
      return;
    }

  self->syncing = TRUE;
  lk_source_dropdown_fill (self->source_dropdown, self->service,
                           lk_source_slot_get_name (self->slot[0]), DEFAULT_SOURCE);
  lk_source_dropdown_fill (self->second_dropdown, self->service,
                           self->second_chosen ? lk_source_slot_get_name (self->slot[1])
                                               : second_default, second_default);
  self->syncing = FALSE;
  lk_source_slot_set_name (self->slot[0], lk_source_dropdown_get_name (self->source_dropdown));
  lk_source_slot_set_name (self->slot[1], lk_source_dropdown_get_name (self->second_dropdown));
}

static void
on_sources_changed (LkQueryView *self)
{
  fill_dropdowns (self);
  refresh (self);
}

static void
reset (LkQueryView *self)
{
  g_cancellable_cancel (self->query_cancellable);
  self->querying = FALSE;
  for (guint i = 0; i < N_SIDES; i++)
    {
      lk_source_slot_set_service (self->slot[i], self->service);
      lk_neighbour_grid_show_message (grid_of (self, i), NULL);
    }
  self->image = -1;
  g_clear_pointer (&self->file, g_free);
  lk_thumbnail_set_item (self->query_thumbnail, NULL);
  gtk_revealer_set_reveal_child (self->progress_revealer, FALSE);
}

static void
on_collection_changed (LkQueryView *self)
{
  reset (self);
  if (collection_of (self) != NULL)
    fill_dropdowns (self);
  refresh (self);
  notify_busy (self);
}

/* Controls ---------------------------------------------------------------------------- */

static void
on_source_selected (LkQueryView *self, GParamSpec *pspec, GtkDropDown *dropdown)
{
  guint side = dropdown == self->source_dropdown ? 0 : 1;
  const char *name = lk_source_dropdown_get_name (dropdown);

  if (self->syncing || !lk_source_slot_set_name (self->slot[side], name))
    return;
  if (side == 1)
    self->second_chosen = TRUE;
  request (self);
}

static void
on_compare_toggled (LkQueryView *self)
{
  gtk_widget_set_sensitive (GTK_WIDGET (self->second_dropdown),
                            gtk_check_button_get_active (self->compare_check));
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_COMPARE]);
  request (self);
}

static void
on_k_changed (LkQueryView *self)
{
  request (self);
}

static void
on_category_toggled (LkQueryView *self)
{
  request (self);
}

/* Actions ------------------------------------------------------------------------------- */

static void
on_chooser_response (LkQueryView *self, int response, GtkNativeDialog *chooser)
{
  if (response == GTK_RESPONSE_ACCEPT && self->session != NULL)
    {
      g_autoptr(GFile) file = gtk_file_chooser_get_file (GTK_FILE_CHOOSER (chooser));
      g_autofree char *path = file != NULL ? g_file_get_path (file) : NULL;

      if (path != NULL && lk_session_get_collection (self->session) != NULL)
        lk_session_activate_file (self->session, path);
    }
  gtk_native_dialog_destroy (chooser);
  g_clear_object (&self->chooser);
}

static void
open_file_action (GtkWidget *widget, const char *action_name, GVariant *parameter)
{
  LkQueryView *self = LK_QUERY_VIEW (widget);
  GtkRoot *root = gtk_widget_get_root (widget);
  g_autoptr(GtkFileFilter) filter = gtk_file_filter_new ();
  GtkFileChooserNative *chooser;

  if (self->chooser != NULL)
    {
      gtk_native_dialog_show (self->chooser);
      return;
    }
  /* GtkFileChooserNative: GtkFileDialog needs GTK 4.10. */
  chooser = gtk_file_chooser_native_new (_("Query with an Image File"),
                                         GTK_IS_WINDOW (root) ? GTK_WINDOW (root) : NULL,
                                         GTK_FILE_CHOOSER_ACTION_OPEN, _("_Query"), _("_Cancel"));
  gtk_native_dialog_set_modal (GTK_NATIVE_DIALOG (chooser), TRUE);
  gtk_file_filter_set_name (filter, _("Images"));
  gtk_file_filter_add_pixbuf_formats (filter);
  gtk_file_chooser_add_filter (GTK_FILE_CHOOSER (chooser), filter);
  self->chooser = GTK_NATIVE_DIALOG (chooser);
  g_signal_connect_swapped (chooser, "response", G_CALLBACK (on_chooser_response), self);
  gtk_native_dialog_show (self->chooser);
}

static void
cancel_action (GtkWidget *widget, const char *action_name, GVariant *parameter)
{
  LkQueryView *self = LK_QUERY_VIEW (widget);

  if (self->service != NULL)
    lk_search_service_cancel_prepare (self->service);
}

/* Object ------------------------------------------------------------------------------------ */

static void
lk_query_view_unmap (GtkWidget *widget)
{
  LkQueryView *self = LK_QUERY_VIEW (widget);

  if (self->after_paint_handler != 0)
    g_clear_signal_handler (&self->after_paint_handler, gtk_widget_get_frame_clock (widget));
  GTK_WIDGET_CLASS (lk_query_view_parent_class)->unmap (widget);
}

static void
lk_query_view_map (GtkWidget *widget)
{
  GTK_WIDGET_CLASS (lk_query_view_parent_class)->map (widget);
  /* What waited for the view to be shown. */
  refresh (LK_QUERY_VIEW (widget));
}

static void
lk_query_view_dispose (GObject *object)
{
  LkQueryView *self = LK_QUERY_VIEW (object);

  lk_query_view_set_session (self, NULL);
  g_cancellable_cancel (self->picture_cancellable);
  g_clear_object (&self->picture_cancellable);
  g_clear_object (&self->query_cancellable);
  if (self->chooser != NULL)
    gtk_native_dialog_destroy (self->chooser);
  g_clear_object (&self->chooser);
  gtk_widget_dispose_template (GTK_WIDGET (self), LK_TYPE_QUERY_VIEW);
  G_OBJECT_CLASS (lk_query_view_parent_class)->dispose (object);
}

static void
lk_query_view_finalize (GObject *object)
{
  LkQueryView *self = LK_QUERY_VIEW (object);

  for (guint i = 0; i < N_SIDES; i++)
    g_clear_object (&self->slot[i]);
  g_free (self->file);
  G_OBJECT_CLASS (lk_query_view_parent_class)->finalize (object);
}

static void
lk_query_view_get_property (GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  LkQueryView *self = LK_QUERY_VIEW (object);

  switch (prop_id)
    {
    case PROP_SESSION:
      g_value_set_object (value, self->session);
      break;
    case PROP_BUSY:
      g_value_set_boolean (value, lk_query_view_get_busy (self));
      break;
    case PROP_COMPARE:
      g_value_set_boolean (value, gtk_check_button_get_active (self->compare_check));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
lk_query_view_set_property (GObject *object, guint prop_id, const GValue *value, GParamSpec *pspec)
{
  LkQueryView *self = LK_QUERY_VIEW (object);

  switch (prop_id)
    {
    case PROP_SESSION:
      lk_query_view_set_session (self, g_value_get_object (value));
      break;
    case PROP_COMPARE:
      gtk_check_button_set_active (self->compare_check, g_value_get_boolean (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
lk_query_view_class_init (LkQueryViewClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = lk_query_view_dispose;
  object_class->finalize = lk_query_view_finalize;
  object_class->get_property = lk_query_view_get_property;
  object_class->set_property = lk_query_view_set_property;
  widget_class->map = lk_query_view_map;
  widget_class->unmap = lk_query_view_unmap;

  properties[PROP_SESSION] = lk_session_binding_param_spec ();
  properties[PROP_BUSY] =
    g_param_spec_boolean ("busy", NULL, NULL, FALSE, G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  /* Two sources side by side. */
  properties[PROP_COMPARE] =
    g_param_spec_boolean ("compare", NULL, NULL, FALSE,
                          G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  g_type_ensure (LK_TYPE_NEIGHBOUR_GRID);
  g_type_ensure (LK_TYPE_STATUS_PAGE);
  g_type_ensure (LK_TYPE_THUMBNAIL);
  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/app/likeness/Likeness/lk-query-view.ui");
  gtk_widget_class_bind_template_child (widget_class, LkQueryView, stack);
  gtk_widget_class_bind_template_child (widget_class, LkQueryView, preview_stack);
  gtk_widget_class_bind_template_child (widget_class, LkQueryView, query_thumbnail);
  gtk_widget_class_bind_template_child (widget_class, LkQueryView, query_picture);
  gtk_widget_class_bind_template_child (widget_class, LkQueryView, query_name_label);
  gtk_widget_class_bind_template_child (widget_class, LkQueryView, query_detail_label);
  gtk_widget_class_bind_template_child (widget_class, LkQueryView, source_dropdown);
  gtk_widget_class_bind_template_child (widget_class, LkQueryView, second_dropdown);
  gtk_widget_class_bind_template_child (widget_class, LkQueryView, compare_check);
  gtk_widget_class_bind_template_child (widget_class, LkQueryView, category_check);
  gtk_widget_class_bind_template_child (widget_class, LkQueryView, k_spin);
  gtk_widget_class_bind_template_child (widget_class, LkQueryView, progress_revealer);
  gtk_widget_class_bind_template_child (widget_class, LkQueryView, progress_label);
  gtk_widget_class_bind_template_child (widget_class, LkQueryView, progress_bar);
  gtk_widget_class_bind_template_child (widget_class, LkQueryView, first_grid);
  gtk_widget_class_bind_template_child (widget_class, LkQueryView, second_grid);
  gtk_widget_class_bind_template_child (widget_class, LkQueryView, second_pane);
  gtk_widget_class_bind_template_callback (widget_class, on_source_selected);
  gtk_widget_class_bind_template_callback (widget_class, on_compare_toggled);
  gtk_widget_class_bind_template_callback (widget_class, on_k_changed);
  gtk_widget_class_bind_template_callback (widget_class, on_category_toggled);

  gtk_widget_class_install_action (widget_class, "query.open-file", NULL, open_file_action);
  gtk_widget_class_install_action (widget_class, "query.cancel", NULL, cancel_action);
  gtk_widget_class_install_property_action (widget_class, "query.compare", "compare");
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_o, GDK_CONTROL_MASK | GDK_SHIFT_MASK,
                                       "query.open-file", NULL);

  gtk_widget_class_set_layout_manager_type (widget_class, GTK_TYPE_BIN_LAYOUT);
  gtk_widget_class_set_css_name (widget_class, "queryview");
}

static void
lk_query_view_init (LkQueryView *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
  self->image = -1;
  for (guint i = 0; i < N_SIDES; i++)
    {
      self->slot[i] = lk_source_slot_new ();
      g_signal_connect_swapped (self->slot[i], "changed", G_CALLBACK (on_slot_changed), self);
    }
  g_signal_connect_swapped (self->first_grid, "neighbour-activated",
                            G_CALLBACK (on_neighbour_activated), self);
  g_signal_connect_swapped (self->second_grid, "neighbour-activated",
                            G_CALLBACK (on_neighbour_activated), self);
}

GtkWidget *
lk_query_view_new (LkSession *session)
{
  return g_object_new (LK_TYPE_QUERY_VIEW, "session", session, NULL);
}

void
lk_query_view_set_session (LkQueryView *self, LkSession *session)
{
  g_return_if_fail (LK_IS_QUERY_VIEW (self));
  g_return_if_fail (session == NULL || LK_IS_SESSION (session));

  static const LkSessionSignal follow[] = {
    { LK_SESSION_PART_SESSION, "notify::collection", G_CALLBACK (on_collection_changed) },
    { LK_SESSION_PART_SESSION, "image-activated", G_CALLBACK (on_image_activated) },
    { LK_SESSION_PART_SESSION, "file-activated", G_CALLBACK (on_file_activated) },
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
  for (guint i = 0; i < N_SIDES; i++)
    lk_source_slot_set_service (self->slot[i], self->service);
  if (session != NULL)
    {
      LkThumbnailer *thumbnailer = lk_session_get_thumbnailer (session);

      lk_thumbnail_set_thumbnailer (self->query_thumbnail, thumbnailer);
      lk_neighbour_grid_set_thumbnailer (self->first_grid, thumbnailer);
      lk_neighbour_grid_set_thumbnailer (self->second_grid, thumbnailer);
      lk_session_binding_follow (self, session, follow, G_N_ELEMENTS (follow));
      on_collection_changed (self);
      if (lk_session_get_activated_file (session) != NULL)
        on_file_activated (self, lk_session_get_activated_file (session));
      else if (lk_session_get_activated_image (session) >= 0)
        on_image_activated (self, (guint) lk_session_get_activated_image (session));
    }
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_SESSION]);
}

LkSession *
lk_query_view_get_session (LkQueryView *self)
{
  g_return_val_if_fail (LK_IS_QUERY_VIEW (self), NULL);
  return self->session;
}

/* Test API ------------------------------------------------------------------------------ */

LkNeighbourGrid *
_lk_query_view_get_grid (LkQueryView *self, guint side)
{
  return grid_of (self, side);
}

GtkDropDown *
_lk_query_view_get_source_dropdown (LkQueryView *self, guint side)
{
  return side == 0 ? self->source_dropdown : self->second_dropdown;
}

GtkCheckButton *
_lk_query_view_get_compare_check (LkQueryView *self)
{
  return self->compare_check;
}

GtkCheckButton *
_lk_query_view_get_category_check (LkQueryView *self)
{
  return self->category_check;
}

GtkSpinButton *
_lk_query_view_get_k_spin (LkQueryView *self)
{
  return self->k_spin;
}

const char *
_lk_query_view_get_query_name (LkQueryView *self)
{
  return gtk_label_get_label (self->query_name_label);
}

const char *
_lk_query_view_get_page (LkQueryView *self)
{
  return gtk_stack_get_visible_child_name (self->stack);
}

double
_lk_query_view_get_latency_ms (LkQueryView *self)
{
  return self->latency_ms;
}

double
_lk_query_view_get_search_ms (LkQueryView *self)
{
  return self->search_ms;
}

double
_lk_query_view_get_paint_latency_ms (LkQueryView *self)
{
  return self->paint_latency_ms;
}

guint
_lk_query_view_get_n_answered (LkQueryView *self)
{
  return self->n_answered;
}

gboolean
_lk_query_view_get_progress_shown (LkQueryView *self)
{
  return gtk_revealer_get_reveal_child (self->progress_revealer);
}
