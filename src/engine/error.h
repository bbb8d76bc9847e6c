/* error.h — the engine's GError domain and codes.
 *
 * Every run-time failure the engine reports (I/O, a bad file, bad input
 * from the user's collection) is a GError in LK_ERROR, so the app and the
 * CLI can show one clear line naming the file and the reason. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define LK_ERROR (lk_error_quark ())

typedef enum {
  LK_ERROR_FAILED,         /* anything without a better code */
  LK_ERROR_IO,             /* a read, write, open or rename failed */
  LK_ERROR_NOT_FOUND,      /* a file or folder is missing */
  LK_ERROR_CORRUPT,        /* a file of ours is truncated, or its checksum is wrong */
  LK_ERROR_VERSION,        /* a file of ours has another format version */
  LK_ERROR_MISMATCH,       /* a file fits another model, preset or collection */
  LK_ERROR_BAD_IMAGE,      /* an image could not be used (see the message) */
  LK_ERROR_SKIPPED,        /* some entries of a collection were skipped */
  LK_ERROR_INVALID,        /* an argument or an input line is invalid */
  LK_ERROR_CANCELLED,      /* never used: cancellation is G_IO_ERROR_CANCELLED */
} LkErrorCode;

GQuark lk_error_quark (void);

G_END_DECLS
