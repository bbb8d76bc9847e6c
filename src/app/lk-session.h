/* lk-session.h — what one window is working on, shared by all its views.
 *
 * A session owns the current collection (and, as they arrive, the
 * features, models and trainer built on it), the thumbnailer every view
 * draws images with, the search service (the embedding sources and
 * their indexes, lk-search-service.h), and the "activated" image: the one the user last
 * clicked in any view, which the Query view ranks neighbours for.
 *
 * Views hold a session and listen:
 *   notify::collection      the collection changed (NULL while none is open)
 *   notify::activated-image the activated image changed (-1: none)
 *   image-activated (guint) an image was activated, even the same again
 *   file-activated (path)   an image file from outside the collection was
 *                           dropped or picked, to query with
 *   notify::opening         an open started or ended
 *   open-progress (phase, done, total)  while opening, ~30 times a second
 *
 * Opening runs in a worker thread; the current collection stays in place
 * until the new one is ready, and stays if the open fails or is cancelled. */
#pragma once

#include <gio/gio.h>

#include "collection.h"
#include "lk-search-service.h"
#include "lk-thumbnailer.h"
#include "lk-training.h"

G_BEGIN_DECLS

#define LK_TYPE_SESSION (lk_session_get_type ())
G_DECLARE_FINAL_TYPE (LkSession, lk_session, LK, SESSION, GObject)

LkSession     *lk_session_new                   (void);

LkCollection  *lk_session_get_collection        (LkSession     *self);
void           lk_session_set_collection        (LkSession     *self,
                                                 LkCollection  *collection);
LkThumbnailer *lk_session_get_thumbnailer       (LkSession     *self);
LkSearchService *lk_session_get_search_service  (LkSession     *self);
/* The session's one training (lk-training.h): it outlives a change of
 * collection and the Training view. */
LkTraining    *lk_session_get_training          (LkSession     *self);

/* The image the user last activated, -1 if none (reset when the
 * collection changes). */
int            lk_session_get_activated_image   (LkSession     *self);
void           lk_session_activate_image        (LkSession     *self,
                                                 guint          index);

/* An image file from outside the collection to query with: the Query
 * view shows its neighbours. The last one stays until an image of the
 * collection is activated or the collection changes. */
void           lk_session_activate_file         (LkSession     *self,
                                                 const char    *path);
const char    *lk_session_get_activated_file    (LkSession     *self);

/* How folders are scanned (side, pixel limit, threads). */
void           lk_session_set_scan_options      (LkSession            *self,
                                                 const LkScanOptions  *options);
/* Where the built-in Fashion-MNIST IDX files are; NULL: Debian's place. */
void           lk_session_set_builtin_dir       (LkSession     *self,
                                                 const char    *dir);

/* Opens @folder, or the built-in collection when @folder is NULL, in a
 * worker thread; on success it becomes the session's collection before
 * @callback runs. A second open cancels the first (which then finishes
 * with G_IO_ERROR_CANCELLED). With @cancellable NULL the session makes
 * one, so lk_session_cancel_open() always works. */
void           lk_session_open_async            (LkSession           *self,
                                                 const char          *folder,
                                                 GCancellable        *cancellable,
                                                 GAsyncReadyCallback  callback,
                                                 gpointer             user_data);
gboolean       lk_session_open_finish           (LkSession     *self,
                                                 GAsyncResult  *result,
                                                 GError       **error);
void           lk_session_cancel_open           (LkSession     *self);
gboolean       lk_session_get_opening           (LkSession     *self);
/* Display name of what is being opened ("Fashion-MNIST", a folder name). */
const char    *lk_session_get_opening_name      (LkSession     *self);

G_END_DECLS
