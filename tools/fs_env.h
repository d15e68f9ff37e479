/*
 * fs_env.h - the environment a process that runs the engine sets for
 * itself before the dynamic loader reads it: the front before it execs
 * facesearch-local, facesearchd before it runs itself again.  Private to
 * tools/.
 */
#ifndef FS_ENV_H
#define FS_ENV_H

/* Sets what a process running the engine needs in its environment
 * before the dynamic loader reads it: 1 when something was set, so the
 * caller must exec (itself, or facesearch-local) for it to take, 0 when
 * all was already there.  OpenBLAS's thread count, and glibc's malloc on
 * transparent huge pages: images and dlib's feature planes are buffers
 * of megabytes allocated and freed per photo, each first touched a 4 KB
 * page fault at a time (fs_env.c says what it cost). */
int fs_engine_env(void);

#endif
