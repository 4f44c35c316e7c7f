/* SPDX-License-Identifier: MIT
 *
 * config.h — the one model of what a sandbox should look like.
 *
 * The CLI parser (src/options.c) and the public C API (src/api.c) both fill
 * an SbxConfig; the launcher (src/launcher.c) and the stages it calls
 * (mounts/, net/) only ever read it.  Validation that needs no syscalls lives
 * in options.c (sbx_config_validate); validation that looks at the host
 * (does the path exist?) happens when the mount plan is built.
 */
#pragma once

#include <glib.h>
#include <stdbool.h>

/* Filesystem modes; exactly one.  SBX_FS_READONLY is "no mode flag". */
typedef enum {
	SBX_FS_READONLY = 0,   /* no new root: every mount read-only except CWD, -w, /tmp, /dev/shm */
	SBX_FS_DEFAULT,        /* -x */
	SBX_FS_CUSTOM,         /* -o ROOT [-d OVERLAY_DIR] [-k PATH…] */
	SBX_FS_HERMETIC,       /* -h DIR */
} SbxFsMode;

/* What the sandbox's network looks like. */
typedef enum {
	SBX_NET_NONE = 0,      /* default: new netns with only lo, up */
	SBX_NET_LO_DOWN,       /* -n: new netns, lo left down */
	SBX_NET_HOST,          /* -N: the host's network namespace */
	SBX_NET_TAP,           /* mini-tapbox: tap0 + libslirp (+ allowlist when given) */
} SbxNetMode;

/* Who the payload is. */
typedef enum {
	SBX_ID_SAME = 0,       /* the caller's uid/gid */
	SBX_ID_ROOT,           /* -R: uid/gid 0 of a nested user namespace */
	SBX_ID_NOBODY,         /* -U: 65534 */
} SbxIdentity;

/* Per-path options, in command-line order. */
typedef enum {
	SBX_MOUNT_WRITE = 0,   /* -w PATH: read-write bind, persists */
	SBX_MOUNT_READ,        /* -M PATH: read-only bind */
	SBX_MOUNT_OVERLAY,     /* -k PATH: overlay, writes thrown away */
	SBX_MOUNT_TMPFS,       /* -e DIR: empty tmpfs */
	SBX_MOUNT_EMPTY_FILE,  /* library: mini_sandbox_mount_empty_output_file() */
} SbxMountKind;

typedef struct {
	SbxMountKind kind;
	char *path;            /* absolute, as given (not canonicalised) */
} SbxMountOpt;

/* --publish [HOSTIP:]HOSTPORT:PORT */
typedef struct {
	char *host_addr;       /* "127.0.0.1" unless given */
	guint16 host_port;
	guint16 guest_port;
} SbxPublish;

typedef struct {
	/* --- filesystem --- */
	SbxFsMode fs_mode;
	char *custom_root;         /* -o ROOT */
	char *overlay_dir;         /* -d DIR */
	char *hermetic_dir;        /* -h DIR */
	gboolean keep_overlay;     /* --keep-overlay: keep -d contents at exit */
	GArray *mounts;            /* of SbxMountOpt, in order given */
	char *workdir;             /* -W DIR; NULL = the launcher's CWD */
	gboolean parents_write;    /* library: mini_sandbox_mount_parents_write() */
	gboolean mount_proc;       /* hermetic: --proc */
	gboolean proc_host;        /* --proc=host: bind the host's /proc when a new one is refused */
	guint64 tmpfs_size;        /* --tmpfs-size BYTES for scratch tmpfs; 0 = default */

	/* --- identity / process --- */
	SbxIdentity identity;      /* -R / -U */
	gboolean allow_userns;     /* --allow-userns: payload may create user namespaces */
	gboolean require_landlock; /* --require-landlock: no Landlock on the kernel is an error */
	gboolean hostname_localhost; /* -H */
	guint timeout_secs;        /* -T SECS, 0 = none */
	guint max_procs;           /* --max-procs N tasks in the sandbox; 0 = default */
	guint grace_secs;          /* -t SECS before SIGKILL (default 2) */
	gboolean sigint_polite;    /* -i: SIGINT → SIGTERM, then SIGKILL after grace */
	GArray *keep_fds;          /* of int: --keep-fd N */
	char *debug_log;           /* -D FILE */
	GPtrArray *arg_files;      /* @FILE argument files read (char *, absolute): protected */
	gboolean verbose;          /* -v */

	/* --- network --- */
	SbxNetMode net_mode;
	GPtrArray *allow_files;    /* -F FILE (char *) */
	GPtrArray *allow_entries;  /* --allow ENTRY, library allow calls (char *) */
	gboolean allow_all;        /* tapbox without any allowlist: unrestricted egress */
	gboolean allow_unresolved; /* --allow-unresolved: a domain that does not resolve is a warning */
	GArray *host_ports;        /* of guint16: --allow-host-port PORT */
	GArray *publish;           /* of SbxPublish: --publish */
	guint mtu;                 /* --mtu, default 65520 */
	gboolean slirp_tcp;        /* --slirp-tcp: guest TCP through libslirp, not the relay */
	gboolean no_name_check;    /* --no-name-check: domain entries admit any name (weaker) */
	char *resolver;            /* --resolver ADDR[:PORT] */
	char *log_file;            /* --log FILE: JSON lines of denials */
	char *learn_file;          /* --learn FILE: write an allowlist from the run (net/learn.h) */
	gboolean quiet;            /* -q: no denial lines on stderr as they happen (denylog.h) */
	guint max_connections;     /* library: mini_sandbox_allow_max_connections(); 0 = default */

	/* --- package-manager profiles (net/profile/profile.h) --- */
	GPtrArray *profiles;       /* --profile NAME, library (char *), in order */
	gboolean profile_cache;    /* --profile-cache: a cache kept for sandboxed runs */
	GPtrArray *profile_entries; /* expanded by the launcher: allowlist text (char *) … */
	GPtrArray *profile_where;  /* … and its origin, same index (char *) */
	GPtrArray *env_set;        /* "NAME=VALUE" set for the command (profiles) */

	/* --- what to run --- */
	char **argv;               /* NULL-terminated; NULL in library mode */
	gboolean is_tapbox;        /* invoked as mini-tapbox */
} SbxConfig;

#define SBX_DEFAULT_MTU 65520
#define SBX_DEFAULT_GRACE_SECS 2

/* Allocate a config with defaults. */
SbxConfig *sbx_config_new(void);
/* Free a config and everything it owns.  NULL is fine. */
void sbx_config_free(SbxConfig *cfg);
/* Deep copy (the C API edits a copy and keeps it only if it validates). */
SbxConfig *sbx_config_copy(const SbxConfig *src);
/* Append a per-path option (copies path). */
void sbx_config_add_mount(SbxConfig *cfg, SbxMountKind kind, const char *path);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(SbxConfig, sbx_config_free)

/* Human name of a mode / mount kind, for messages ("-x", "-w"). */
const char *sbx_fs_mode_flag(SbxFsMode mode);
const char *sbx_mount_kind_flag(SbxMountKind kind);
