/* fileutil.h — small file helpers shared by every engine module that
 * keeps state on disk: atomic writes, the XDG locations of a collection's
 * cache and data, and read-only mappings. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Writes @len bytes to @path atomically: a temporary in the same folder,
 * fsync, rename over @path, fsync of the folder. Creates missing parent
 * folders. On failure @path is untouched and the temporary removed. */
gboolean lk_file_write_atomic (const char  *path,
                               const void  *data,
                               gsize        len,
                               GError     **error);

/* The same, for a file built in pieces: open a temporary with
 * lk_atomic_file_open(), append with lk_atomic_file_write(), then either
 * lk_atomic_file_commit() (fsync + rename) or lk_atomic_file_abort(). */
typedef struct _LkAtomicFile LkAtomicFile;
LkAtomicFile *lk_atomic_file_open   (const char    *path,
                                     GError       **error);
gboolean      lk_atomic_file_write  (LkAtomicFile  *file,
                                     const void    *data,
                                     gsize          len,
                                     GError       **error);
gboolean      lk_atomic_file_commit (LkAtomicFile  *file,
                                     GError       **error);
void          lk_atomic_file_abort  (LkAtomicFile  *file);

/* A read-only mapping of a whole file (GMappedFile underneath). */
typedef struct _LkMapped LkMapped;
LkMapped     *lk_mapped_open  (const char *path, GError **error);
const guint8 *lk_mapped_data  (LkMapped   *mapped);
gsize         lk_mapped_size  (LkMapped   *mapped);
void          lk_mapped_free  (LkMapped   *mapped);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (LkMapped, lk_mapped_free)

/* $XDG_CACHE_HOME/likeness/<id> and $XDG_DATA_HOME/likeness/<id>, where
 * <id> is a collection's id (lk_collection_get_id()). Not created. */
char *lk_cache_dir_for (const char *collection_id);
char *lk_data_dir_for  (const char *collection_id);

/* 64-bit FNV-1a, used for ids and checksums of our own files. */
guint64 lk_hash64 (const void *data, gsize len, guint64 seed);

G_END_DECLS
