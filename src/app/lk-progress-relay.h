/* lk-progress-relay.h — progress from a worker thread to the main thread.
 *
 * A worker posts progress as often as it likes, from any thread; the
 * relay keeps only the latest value and delivers it on the main context
 * it was created in, at most once every LK_PROGRESS_RELAY_INTERVAL_MS,
 * so a scan that reports 70,000 times costs the main loop ~30 wake-ups a
 * second. Nothing is delivered after lk_progress_relay_close(), so the
 * owner closes it in its dispose and the worker may outlive the owner. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define LK_PROGRESS_RELAY_INTERVAL_MS 33

typedef struct _LkProgressRelay LkProgressRelay;

/* Called on the main context with the latest values. */
typedef void (*LkProgressFunc) (const char *phase,
                                guint       done,
                                guint       total,
                                gpointer    user_data);

/* Main thread. @user_data is borrowed: close the relay before it goes. */
LkProgressRelay *lk_progress_relay_new   (LkProgressFunc   func,
                                          gpointer         user_data);
LkProgressRelay *lk_progress_relay_ref   (LkProgressRelay *self);
void             lk_progress_relay_unref (LkProgressRelay *self);
/* Any thread. @phase may be NULL (keeps the previous one). */
void             lk_progress_relay_post  (LkProgressRelay *self,
                                          const char      *phase,
                                          guint            done,
                                          guint            total);
/* Main thread: no call of the function after this returns. */
void             lk_progress_relay_close (LkProgressRelay *self);

/* Fits LkScanProgress (collection.h), with the relay as user data. */
void             lk_progress_relay_post_cb (const char *phase,
                                            guint       done,
                                            guint       total,
                                            gpointer    relay);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (LkProgressRelay, lk_progress_relay_unref)

G_END_DECLS
