/*
 * fs_wire.h - the messages between the facesearch command and facesearchd,
 * over a Unix stream socket.  Private to tools/.
 *
 * A conversation (one per connection, one command per conversation):
 *
 *   service -> client   HELLO    protocol version, the gallery's id
 *   client  -> service  RUN      argv, the session token (when the user has
 *                                one for that gallery), and the user's
 *                                standard input, output, error and
 *                                terminal as descriptors (SCM_RIGHTS)
 *   service -> client   OPEN | CREATE | DISCARD | LIST | SAVE | DROP
 *                                the files the user named, opened or made
 *                                by the client with the user's own rights;
 *                                the session token kept or forgotten
 *   client  -> service  REPLY    to each: a code (FS_OK or FS_E*), a text
 *                                (a message, or where a token went), a
 *                                descriptor, a directory's entries
 *   service -> client   EXIT     the command's exit status
 *
 * The command's output goes straight to the user's descriptors, so it is
 * byte for byte what the command prints in-process.  The service learns
 * who the user is from the kernel (SO_PEERCRED), never from a message.
 *
 * A frame is a 32-bit little-endian length, then that many bytes: a type
 * byte and the fields, integers little-endian, strings and byte strings
 * a 32-bit length and the bytes (a string holds no NUL).  The decoder is
 * a pure function over bytes, bounded and allocation-checked, so that a
 * hostile frame gets an error, never a crash (tests/fuzz/fuzz_wire.c).
 */
#ifndef FS_WIRE_H
#define FS_WIRE_H

#include <stddef.h>
#include <stdint.h>

#include "../engine/base/fs_error.h"

#define FS_WIRE_VERSION   1
#define FS_WIRE_RUN_MAX   (1u << 20)    /* what a client may send at once */
#define FS_WIRE_FRAME_MAX (64u << 20)   /* a directory listing, at most */
#define FS_WIRE_ARGS_MAX  256
#define FS_WIRE_FDS_MAX   4

enum {
    FS_W_HELLO = 1, FS_W_RUN, FS_W_OPEN, FS_W_CREATE, FS_W_DISCARD,
    FS_W_LIST, FS_W_SAVE, FS_W_DROP, FS_W_REPLY, FS_W_EXIT
};

/* RUN's flags: what came with it.  TOKEN_REFUSED: the user has a
 * session file for the gallery, but not a private, sound one of theirs,
 * so the gate refuses the session as it does in-process. */
enum { FS_W_HAS_TOKEN = 1, FS_W_HAS_TTY = 2, FS_W_TOKEN_REFUSED = 4 };

typedef struct fs_wire_entry {
    const char *name;
    int         is_dir;
} fs_wire_entry;

/* A message, decoded or to encode.  Strings point into the frame the
 * message was decoded from (or the caller's memory when encoding). */
typedef struct fs_wire_msg {
    int            type;
    uint32_t       version;          /* HELLO, RUN */
    int32_t        code;             /* REPLY: FS_OK or FS_E*; EXIT: status */
    uint32_t       flags;            /* RUN: FS_W_HAS_* */
    const char    *text;             /* HELLO: the gallery id; OPEN,
                                        CREATE, DISCARD, LIST: the path;
                                        REPLY: the message or where */
    uint8_t        token[32];        /* RUN with FS_W_HAS_TOKEN; SAVE */
    int            argc;             /* RUN */
    const char    *argv[FS_WIRE_ARGS_MAX];
    size_t         nentries;         /* REPLY to LIST */
    fs_wire_entry *entries;          /* decoded: allocated, see free */
    int            fds[FS_WIRE_FDS_MAX];
    int            nfds;
    uint8_t       *frame;            /* decoded: the frame it points into */
} fs_wire_msg;

/* The bytes of m's frame, length first, in a new buffer (free() it):
 * FS_EINVAL for a message that breaks the limits above. */
int  fs_wire_encode(const fs_wire_msg *m, uint8_t **out, size_t *len);
/* Decodes the frame body p[0..len) (after the length) into m, whose
 * pointers then point into p: FS_EFORMAT for anything malformed, naming
 * it in d.  m->entries is allocated (fs_wire_clear frees it). */
int  fs_wire_decode(const uint8_t *p, size_t len, fs_wire_msg *m,
                    fs_detail *d);

/* Sends m with its descriptors (m->fds) in one frame.  EPIPE and the
 * like are FS_EIO. */
int  fs_wire_send(int sock, const fs_wire_msg *m, fs_detail *d);
/* Receives one frame of at most max bytes and decodes it; descriptors
 * that came with it land in m->fds (close-on-exec).  FS_EIO when the
 * peer is gone or the socket's timeout passed, FS_ETOOBIG over max,
 * FS_EFORMAT for a malformed frame (its descriptors closed). */
int  fs_wire_recv(int sock, size_t max, fs_wire_msg *m, fs_detail *d);
/* Frees what a received message holds, closing the descriptors nobody
 * took (set an entry of m->fds to -1 to keep it). */
void fs_wire_clear(fs_wire_msg *m);

#endif /* FS_WIRE_H */
