/* SPDX-License-Identifier: MIT
 *
 * nflog.c — nfnetlink_log: bind in the sandbox netns, read in the launcher.
 * See nflog.h.  Message layout: linux/netfilter/nfnetlink_log.h; the
 * configuration sequence follows libnetfilter_log (bind pf, bind group,
 * copy mode) without the library.
 */
#include "net/nflog.h"
#include "common/error.h"
#include "common/fdutil.h"

#include <errno.h>
#include <glib-unix.h>
#include <fcntl.h>
#include <libmnl/libmnl.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_log.h>
#include <linux/netlink.h>
#include <arpa/inet.h>
#include <netinet/ip.h>
#include <netinet/ip6.h>
#include <stddef.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* Enough for an IPv6 header, a few extension headers and the ports. */
#define NFLOG_COPY_RANGE 128
#define NFLOG_RCVBUF (1 << 20)

struct NflogReader {
	int sock;
	GSource *watch;
	NflogEventFunc func;
	gpointer user_data;
	guint64 lost;
	guint8 buf[65536];     /* last, and not zeroed (nflog_reader_new) */
};

static struct nlmsghdr *
put_config_hdr(char *buf, guint8 family, guint16 res_id, guint32 seq)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct nfgenmsg *nfg;

	nlh->nlmsg_type = (NFNL_SUBSYS_ULOG << 8) | NFULNL_MSG_CONFIG;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
	nlh->nlmsg_seq = seq;
	nfg = mnl_nlmsg_put_extra_header(nlh, sizeof(*nfg));
	nfg->nfgen_family = family;
	nfg->version = NFNETLINK_V0;
	nfg->res_id = htons(res_id);
	return nlh;
}

/* Send one config message and wait for its ACK.  Returns 0 or -errno. */
static int
config_talk(int fd, struct nlmsghdr *nlh)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	ssize_t n;

	if (send(fd, nlh, nlh->nlmsg_len, 0) < 0)
		return -errno;
	do
		n = recv(fd, buf, sizeof(buf), 0);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	/* portid 0: the kernel's replies, checked by sequence number */
	if (mnl_cb_run(buf, (size_t)n, nlh->nlmsg_seq, 0, NULL, NULL) < 0)
		return -errno;
	return 0;
}

int
nflog_open(guint16 group, GError **error)
{
	static const guint8 families[] = { AF_INET, AF_INET6 };
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nfulnl_msg_config_cmd cmd;
	struct nfulnl_msg_config_mode mode;
	struct sockaddr_nl snl = { .nl_family = AF_NETLINK };
	struct nlmsghdr *nlh;
	guint32 seq = 1;
	int rcvbuf = NFLOG_RCVBUF;
	autoclose int fd = -1;
	int err;

	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_NETFILTER);
	if (fd < 0)
		return sbx_set_errno(error, errno, "open nfnetlink_log socket"), -1;
	if (bind(fd, (struct sockaddr *)&snl, sizeof(snl)) < 0)
		return sbx_set_errno(error, errno, "bind nfnetlink_log socket"), -1;
	/* PF_BIND is a no-op on kernels >= 3.17 (logging is per netns) but
	 * older ones need it; its result does not matter. */
	for (size_t i = 0; i < G_N_ELEMENTS(families); i++) {
		nlh = put_config_hdr(buf, families[i], 0, seq++);
		cmd.command = NFULNL_CFG_CMD_PF_BIND;
		mnl_attr_put(nlh, NFULA_CFG_CMD, sizeof(cmd), &cmd);
		(void)config_talk(fd, nlh);
	}
	nlh = put_config_hdr(buf, AF_UNSPEC, group, seq++);
	cmd.command = NFULNL_CFG_CMD_BIND;
	mnl_attr_put(nlh, NFULA_CFG_CMD, sizeof(cmd), &cmd);
	if ((err = config_talk(fd, nlh)) < 0)
		return sbx_set_errno(error, -err, "bind nfnetlink_log group %u", group), -1;
	nlh = put_config_hdr(buf, AF_UNSPEC, group, seq++);
	memset(&mode, 0, sizeof(mode));
	mode.copy_mode = NFULNL_COPY_PACKET;
	mode.copy_range = htonl(NFLOG_COPY_RANGE);
	mnl_attr_put(nlh, NFULA_CFG_MODE, sizeof(mode), &mode);
	/* One packet per message, sent at once: the default batches up to
	 * 100 packets for up to a second, which would delay the -v report. */
	mnl_attr_put_u32(nlh, NFULA_CFG_QTHRESH, htonl(1));
	mnl_attr_put_u32(nlh, NFULA_CFG_TIMEOUT, htonl(0));
	if ((err = config_talk(fd, nlh)) < 0)
		return sbx_set_errno(error, -err, "configure nfnetlink_log group %u", group), -1;
	(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) < 0)
		return sbx_set_errno(error, errno, "make nfnetlink_log socket non-blocking"), -1;
	return sbx_steal_fd(&fd);
}

gboolean
nflog_parse_ip(const guint8 *pkt, size_t len, NflogEvent *ev)
{
	size_t l4 = 0;
	guint8 proto;
	gboolean first_fragment = TRUE;

	memset(ev, 0, sizeof(*ev));
	if (len < 1)
		return FALSE;
	if ((pkt[0] >> 4) == 4) {
		size_t ihl = (size_t)(pkt[0] & 0xf) * 4;

		if (len < 20 || ihl < 20 || ihl > len)
			return FALSE;
		ev->family = AF_INET;
		memcpy(&ev->daddr.v4, pkt + 16, 4);
		proto = pkt[9];
		/* a non-first fragment carries no transport header */
		first_fragment = ((pkt[6] & 0x1f) | pkt[7]) == 0;
		l4 = ihl;
	} else if ((pkt[0] >> 4) == 6) {
		if (len < 40)
			return FALSE;
		ev->family = AF_INET6;
		memcpy(&ev->daddr.v6, pkt + 24, 16);
		proto = pkt[6];
		l4 = 40;
		/* walk a bounded number of extension headers */
		for (int i = 0; i < 8; i++) {
			size_t hlen;

			if (proto != 0 && proto != 43 && proto != 60 && proto != 44 && proto != 51)
				break;
			if (l4 + 8 > len) {
				first_fragment = FALSE;   /* cannot see the port */
				break;
			}
			if (proto == 44) {
				first_fragment = ((pkt[l4 + 2] << 8 | pkt[l4 + 3]) & 0xfff8) == 0;
				hlen = 8;
			} else if (proto == 51) {
				hlen = ((size_t)pkt[l4 + 1] + 2) * 4;
			} else {
				hlen = ((size_t)pkt[l4 + 1] + 1) * 8;
			}
			proto = pkt[l4];
			l4 += hlen;
		}
	} else {
		return FALSE;
	}
	ev->l4proto = proto;
	if (first_fragment && (proto == IPPROTO_TCP || proto == IPPROTO_UDP) && l4 + 4 <= len)
		ev->dport = (guint16)(pkt[l4 + 2] << 8 | pkt[l4 + 3]);
	return TRUE;
}

static int
packet_attr_cb(const struct nlattr *attr, void *data)
{
	const struct nlattr **tb = data;
	int type = mnl_attr_get_type(attr);

	if (mnl_attr_type_valid(attr, NFULA_MAX) < 0)
		return MNL_CB_OK;   /* newer kernel attribute: skip */
	tb[type] = attr;
	return MNL_CB_OK;
}

guint
nflog_parse(const guint8 *buf, size_t len, NflogEventFunc func, gpointer user_data)
{
	const struct nlmsghdr *nlh = (const struct nlmsghdr *)buf;
	int remaining = (int)MIN(len, (size_t)G_MAXINT);
	guint n = 0;

	/* netlink messages are 4-byte aligned; a misaligned buffer is not ours */
	if ((uintptr_t)buf % 4)
		return 0;
	for (; mnl_nlmsg_ok(nlh, remaining); nlh = mnl_nlmsg_next(nlh, &remaining)) {
		const struct nlattr *tb[NFULA_MAX + 1] = { NULL };
		NflogEvent ev;

		if (nlh->nlmsg_type != ((NFNL_SUBSYS_ULOG << 8) | NFULNL_MSG_PACKET))
			continue;
		if (nlh->nlmsg_len < mnl_nlmsg_size(sizeof(struct nfgenmsg)))
			continue;
		if (mnl_attr_parse(nlh, sizeof(struct nfgenmsg), packet_attr_cb, tb) < 0)
			continue;
		if (!tb[NFULA_PAYLOAD])
			continue;
		if (!nflog_parse_ip(mnl_attr_get_payload(tb[NFULA_PAYLOAD]),
				    mnl_attr_get_payload_len(tb[NFULA_PAYLOAD]), &ev))
			continue;
		n++;
		if (func)
			func(&ev, user_data);
	}
	return n;
}

void
nflog_reader_drain(NflogReader *r)
{
	for (;;) {
		ssize_t n = recv(r->sock, r->buf, sizeof(r->buf), MSG_DONTWAIT);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == ENOBUFS) {   /* overflow: some reports lost */
				r->lost++;
				continue;
			}
			return;   /* EAGAIN, or a dead socket: nothing more to read */
		}
		if (n == 0)
			return;
		nflog_parse(r->buf, (size_t)n, r->func, r->user_data);
	}
}

/* GUnixFDSourceFunc */
static gboolean
on_nflog_readable(gint fd, GIOCondition cond, gpointer data)
{
	NflogReader *r = data;

	nflog_reader_drain(r);
	if (cond & (G_IO_ERR | G_IO_HUP | G_IO_NVAL)) {
		r->watch = NULL;
		return G_SOURCE_REMOVE;
	}
	return G_SOURCE_CONTINUE;
}

NflogReader *
nflog_reader_new(int sock, GMainContext *ctx, NflogEventFunc func, gpointer user_data)
{
	/* The receive buffer is not zeroed: recv() writes it before it is
	 * read, and zeroing it faulted in 16 pages on every start (issue 19). */
	NflogReader *r = g_malloc(sizeof *r);

	memset(r, 0, offsetof(NflogReader, buf));

	r->sock = sock;
	r->func = func;
	r->user_data = user_data;
	r->watch = g_unix_fd_source_new(sock, G_IO_IN | G_IO_ERR | G_IO_HUP);
	g_source_set_callback(r->watch, G_SOURCE_FUNC(on_nflog_readable), r, NULL);
	g_source_attach(r->watch, ctx);
	g_source_unref(r->watch);
	return r;
}

guint64
nflog_reader_lost(const NflogReader *r)
{
	return r ? r->lost : 0;
}

void
nflog_reader_free(NflogReader *r)
{
	if (!r)
		return;
	if (r->watch)
		g_source_destroy(r->watch);
	sbx_close_fdp(&r->sock);
	g_free(r);
}
