/* SPDX-License-Identifier: MIT
 *
 * sandbox-child.h — what runs inside the namespaces: the set-up child
 * (pid 1, namespace-root) and, started by init.c, the payload.
 *
 * The launcher and this code talk over SYNC, a SOCK_SEQPACKET socketpair:
 *   child/payload → launcher   exactly one SbxSetupReport: code 0 "set-up OK"
 *                      (sent by the payload right before exec, after the
 *                      privilege drop and seccomp), or an SBX_ERR_* code and
 *                      the error text (nothing of the payload ran).
 *   child → launcher   before the report, after the filesystem stage: zero
 *                      or more SbxUppersMsg (code SBX_REPORT_UPPERS) carrying
 *                      the overlays' upper directories as SCM_RIGHTS fds, for
 *                      the discarded-writes report (mounts/discarded.h).
 */
#pragma once

#include "common/config.h"
#include "mounts/discarded.h"
#include "mounts/fs.h"
#include "net/net.h"

#include <sys/types.h>

typedef struct {
	const SbxConfig *cfg;
	SbxNet *net;
	const MountPlan *plan;
	int sync_fd;           /* child's end of the sync socketpair */
	int net_chan;          /* child's end of the network stage's socketpair */
	uid_t outer_uid;       /* the launcher's ids, mapped to 0 by pid 1 */
	gid_t outer_gid;
	uid_t payload_uid;     /* identity inside the nested user namespace */
	gid_t payload_gid;
	gboolean continuation; /* library mode: return in the payload, no exec */
	GBytes *seccomp;       /* compiled filter (sbx_seccomp_compile) */
	int cap_last;          /* highest capability the kernel knows (privdrop.h) */
} SbxChildArgs;

/* Largest report: code + message. */
#define SBX_REPORT_MAX 4096

typedef struct {
	gint32 code;           /* 0 = set-up OK, else an SbxErrorCode */
	char message[SBX_REPORT_MAX - sizeof(gint32)];
} SbxSetupReport;

#define SBX_REPORT_UPPERS (-1)
#define SBX_UPPERS_PER_MSG 8

typedef struct {
	gint32 code;           /* SBX_REPORT_UPPERS */
	guint32 n;             /* fds attached, <= SBX_UPPERS_PER_MSG */
	guint32 op_index[SBX_UPPERS_PER_MSG];        /* the overlay's op in plan->ops */
	DiscardCount baseline[SBX_UPPERS_PER_MSG];   /* what set-up put there (mount points) */
} SbxUppersMsg;

/* Run in the clone()d child.  Never returns, except in the payload when
 * ARGS->continuation is set (library mode): then the sandbox is complete
 * and the caller's code continues inside it. */
void sbx_sandbox_child(const SbxChildArgs *args);
