/* SPDX-License-Identifier: MIT
 *
 * net.c — the network stage of every mode (doc/ARCHITECTURE.md "Network (mini-tapbox)").
 *
 * mini-tapbox, in the order things happen:
 *   launcher  net_prepare          load the egress policy, resolv.conf/hosts text
 *   child     net_child_setup      first thing in the new netns: open
 *                                  /dev/net/tun (tap.c), the rtnetlink, nft and
 *                                  NFLOG sockets; fds → launcher
 *   launcher  net_launcher_attach  through those fds, while pid 1 builds the
 *                                  file system: tap0 (tap.c); lo, qdisc, MTU,
 *                                  addresses, routes (netconf.c); the nft
 *                                  ruleset (policy); libslirp on the GLib
 *                                  context (slirp-source.c), tap watch: DNS →
 *                                  host gate → policy → slirp; hostfwds;
 *                                  "up" → child
 *   child     net_child_wait_up    before the payload: wait for "up"
 *   launcher  net_finish           denial summary, slirp_cleanup
 *
 * Wire protocol on CHAN (SOCK_SEQPACKET, one message each):
 *   child → launcher   NetHello (no fds), then NetHello again carrying
 *                      hello.nfds fds: tun, rtnetlink [, nflog] [, nft]
 *   launcher → child   NetAnswer: NET_UP, or NET_FAILED with the launcher's
 *                      error, which the child reports as its own — the
 *                      launcher shows the child's report when set-up fails,
 *                      so this is how e.g. "publish 127.0.0.1:8080: Address
 *                      already in use" reaches the user.
 */
#include "net/net.h"
#include "net/denials.h"
#include "net/dns.h"
#include "net/frame.h"
#include "net/hostgate.h"
#include "net/learn.h"
#include "net/loopback.h"
#include "net/netconf.h"
#include "net/nflog.h"
#include "net/policy.h"
#include "net/slirp-lib.h"
#include "net/slirp-source.h"
#include "net/tap.h"
#include "net/nft/nft.h"
#include "net/vnet.h"
#include "net/relay/tcp-relay.h"
#include "common/error.h"
#include "common/fdutil.h"
#include "common/log.h"
#include "common/loop-epoll.h"
#include "common/safepath.h"

#include <arpa/inet.h>
#include <errno.h>
#include <glib-unix.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#define TAP_NAME "tap0"
#define NET_UP 'U'
#define NET_FAILED 'F'
#define NET_HELLO_MAGIC 0x4e584253u   /* "SBXN" */
#define TAP_CLAIM_OPEN 0
#define TAP_CLAIM_CHILD 1
#define TAP_CLAIM_LAUNCHER 2
/* Frames handled per wake-up of the tap watch before slirp's sockets get a
 * turn: a guest that sends without pause must not starve the replies. */
#define TAP_BATCH_MAX 256
#define FRAME_BUF_SIZE (65536 + 64)

typedef struct {
	guint32 magic;
	guint8 nfds;        /* fds in the second message: 2 + has_nflog + has_nft */
	guint8 has_nflog;
	guint8 has_nft;
	guint8 pad;
} NetHello;

typedef struct {
	char status;        /* NET_UP / NET_FAILED */
	gint32 code;        /* SbxErrorCode when failed */
	char message[400];  /* NUL-terminated when failed */
} NetAnswer;

/* When the launcher loads libslirp (slirp-lib.h: ~2.5 ms and ~4 ms of CPU
 * time, most of it page faults, on the benchmark VM).  The TCP relay and
 * the resolver handle the payload's TCP and DNS, and tap0's permanent
 * neighbour entries (net_configure_tap()) answer what ARP and neighbour
 * discovery would ask libslirp: most sandboxes never need it. */
typedef enum {
	SLIRP_BEFORE_UP,   /* --publish: a host port in use fails the start */
	SLIRP_AFTER_UP,    /* --slirp-tcp, or no relay: every TCP connection */
	SLIRP_ON_DEMAND,   /* with the first frame only libslirp handles */
	SLIRP_FAILED,      /* that load failed: the sandbox is being ended */
} SlirpWhen;

struct SbxNet {
	const SbxConfig *cfg;       /* borrowed: the launcher keeps it alive */
	SbxNetMode mode;
	EgressPolicy *policy;
	char *resolv_conf;
	char *hosts;

	/* Who creates and configures tap0 (tap_attach(), net_configure_tap()):
	 * pid 1 once its file system is built, or the launcher once the
	 * ruleset, the relay and the resolver are in place, whichever is free first
	 * (net_claim_tap()).  One int in a MAP_SHARED page from before the
	 * clone; the payload's exec drops it. */
	int *tap_claim;

	/* child side: pid 1's copies of /dev/net/tun and the rtnetlink
	 * socket, kept until the claim is settled */
	int child_tun;
	int child_rtnl;

	guint mtu;                  /* tap0's: --mtu or SBX_DEFAULT_MTU */

	/* launcher side */
	SlirpWhen slirp_when;       /* when libslirp loads (net_attach_tap()) */
	GMainContext *ctx;          /* the launcher's, for libslirp on demand */
	gboolean slirp_met_guest;   /* net_slirp_meet_guest() done */
	SbxNetFatalFunc fatal;      /* ends the sandbox (net_set_fatal_func()) */
	gpointer fatal_data;
	int tap_fd;
	HostGate *gate;
	SlirpLoop *slirp;
	TcpRelay *relay;            /* NULL: all TCP through slirp */
	DnsResponder *dns;
	Denials *denials;
	Learner *learner;           /* --learn, or NULL */
	GSource *tap_source;        /* the tap's watch: a GSource, or */
	LoopEpollQueue *tap_events; /* a direct watch served in the wait */
	LoopEpollWatch tap_watch;
	uint8_t *frame_buf;
	gboolean finished;
};

gboolean
net_has_tap(void)
{
	return TRUE;
}

SbxNet *
net_prepare(const SbxConfig *cfg, GError **error)
{
	g_autoptr(SbxNet) net = g_new0(SbxNet, 1);

	net->cfg = cfg;
	net->mode = cfg->net_mode;
	net->mtu = cfg->mtu ? cfg->mtu : SBX_DEFAULT_MTU;
	net->tap_fd = -1;
	net->child_tun = net->child_rtnl = -1;
	if (net->mode != SBX_NET_TAP)
		return g_steal_pointer(&net);

	net->tap_claim = mmap(NULL, sizeof *net->tap_claim, PROT_READ | PROT_WRITE,
			      MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (net->tap_claim == MAP_FAILED) {
		net->tap_claim = NULL;
		sbx_set_errno(error, errno, "map the network set-up's shared page");
		return NULL;
	}

	net->policy = egress_policy_load(cfg, error);
	if (!net->policy)
		return NULL;
	if (cfg->allow_all && cfg->learn_file)
		sbx_warn("learning an allowlist (--learn) without one to enforce: egress from "
			 "the sandbox is unrestricted");
	else if (cfg->allow_all)
		sbx_warn("no allowlist given (-F/--allow): egress from the sandbox is "
			 "unrestricted");
	if (cfg->learn_file)
		net->learner = learn_new(egress_policy_is_restricted(net->policy));
	/* options-check.c refuses this for --allow; -F files are known now */
	if (cfg->slirp_tcp && !cfg->no_name_check && egress_policy_has_names(net->policy)) {
		g_set_error(error, SBX_ERROR, SBX_ERR_ILLEGAL_NETWORK,
			    "--slirp-tcp cannot check the names the allowlist's domain entries "
			    "admit: leave out --slirp-tcp, or give --no-name-check to let any name "
			    "through on their addresses");
		return NULL;
	}
	/* Both resolver addresses are ours (slirp's forwarder or the built-in
	 * responder); short timeouts because a refused name is answered, not
	 * dropped. */
	net->resolv_conf = g_strdup("nameserver " VNET_RESOLVER4_TEXT "\n"
				    "nameserver " VNET_RESOLVER6_TEXT "\n"
				    "options timeout:2 attempts:2\n");
	net->hosts = egress_policy_hosts_file(net->policy);
	net->gate = host_gate_new(cfg->host_ports);
	return g_steal_pointer(&net);
}

const char *
net_resolv_conf(const SbxNet *net)
{
	return net->resolv_conf;
}

const char *
net_hosts_file(const SbxNet *net)
{
	return net->hosts;
}

/* ---- both sides: tap0 ---------------------------------------------------- */

/* lo and tap0's queueing discipline, MTU, addresses, routes and the
 * gateway's and resolver's neighbour entries through
 * RTNL, the rtnetlink socket pid 1 opened in the sandbox's namespace
 * (netconf.h): pid 1 holds CAP_NET_ADMIN there, and so does the
 * launcher, owner of the sandbox's user namespace.  Takes RTNL. */
static gboolean
net_configure_tap(int rtnl, guint mtu, GError **error)
{
	/* the gateway and the resolver at libslirp's MACs (vnet.h) */
	static const guint8 gw4_bytes[4] = VNET_GATEWAY4_BYTES, gw4_mac[6] = VNET_GATEWAY4_MAC;
	static const guint8 dns4_bytes[4] = VNET_RESOLVER4_BYTES, dns4_mac[6] = VNET_RESOLVER4_MAC;
	static const guint8 gw6_bytes[16] = VNET_GATEWAY6_BYTES, gw6_mac[6] = VNET_GATEWAY6_MAC;
	static const guint8 dns6_bytes[16] = VNET_RESOLVER6_BYTES, dns6_mac[6] = VNET_RESOLVER6_MAC;
	g_autoptr(NetConf) nc = netconf_adopt(rtnl, error);
	struct in_addr a4, gw4;
	struct in6_addr a6, gw6;

	if (!nc)
		return FALSE;
	inet_pton(AF_INET, VNET_GUEST4_TEXT, &a4);
	inet_pton(AF_INET, VNET_GATEWAY4_TEXT, &gw4);
	inet_pton(AF_INET6, VNET_GUEST6_TEXT, &a6);
	inet_pton(AF_INET6, VNET_GATEWAY6_TEXT, &gw6);

	/* lo first: the nft reject rules answer through it (locally
	 * generated RST and ICMP), and loopback services inside need it.
	 * Then the queueing discipline, while tap0 is down: replacing the
	 * root qdisc of a running device deactivates it and waits for an
	 * RCU grace period (qdisc_graft → dev_deactivate → synchronize_net),
	 * 0.1–4 ms on a loaded 2-vCPU VM (strace), against 0.02 ms down. */
	if (!netconf_link_set(nc, "lo", TRUE, 0, error) ||
	    !netconf_qdisc_noqueue(nc, TAP_NAME, error) ||
	    !netconf_link_set(nc, TAP_NAME, TRUE, mtu, error) ||
	    !netconf_addr_add(nc, TAP_NAME, AF_INET, &a4, VNET_NET4_PREFIX, error) ||
	    !netconf_route_add_default(nc, TAP_NAME, AF_INET, &gw4, error) ||
	    !netconf_neigh_add(nc, TAP_NAME, AF_INET, gw4_bytes, gw4_mac, error) ||
	    !netconf_neigh_add(nc, TAP_NAME, AF_INET, dns4_bytes, dns4_mac, error))
		return FALSE;
	/* A kernel booted with ipv6.disable=1 has no IPv6 at all (no
	 * /proc/sys/net/ipv6): the sandbox then simply has none either.  The
	 * same kernel as ours. */
	if (access("/proc/sys/net/ipv6", F_OK) < 0) {
		sbx_debug("no IPv6 in this kernel; the sandbox gets IPv4 only");
		return TRUE;
	}
	return netconf_addr_add(nc, TAP_NAME, AF_INET6, &a6, VNET_NET6_PREFIX, error) &&
	       netconf_route_add_default(nc, TAP_NAME, AF_INET6, &gw6, error) &&
	       netconf_neigh_add(nc, TAP_NAME, AF_INET6, gw6_bytes, gw6_mac, error) &&
	       netconf_neigh_add(nc, TAP_NAME, AF_INET6, dns6_bytes, dns6_mac, error);
}

/* Create tap0 through TUN (pid 1's /dev/net/tun fd, or the launcher's copy
 * of it) and configure it and lo through RTNL (taken). */
static gboolean
net_setup_tap(SbxNet *net, int tun, int rtnl, GError **error)
{
	if (!tap_attach(tun, TAP_NAME, error)) {
		close(rtnl);
		return FALSE;
	}
	if (!net_configure_tap(rtnl, net->mtu, error))
		return sbx_prefix_error(error, "configure %s", TAP_NAME);
	return TRUE;
}

/* TRUE when tap0 falls to WHO (TAP_CLAIM_CHILD or _LAUNCHER): the first
 * to ask gets it.  pid 1 asks once its file system is built, the launcher
 * once the ruleset, the relay and the resolver are in place: usually the
 * launcher without a list, and either one with a list (its sets make the
 * ruleset's batch and its read-back longer).  Either way both are busy
 * until then, and the other one does not wait for it. */
static gboolean
net_claim_tap(SbxNet *net, int who)
{
	return g_atomic_int_compare_and_exchange(net->tap_claim, TAP_CLAIM_OPEN, who);
}

/* ---- child side ---------------------------------------------------------- */

/* Namespace-root inside the sandbox's netns, before the payload starts:
 * the sockets the launcher needs later and could not open itself — an
 * nfnetlink_log socket bound to SBX_NFLOG_GROUP (blocked-destination
 * reports, denials.c) and a NETLINK_NETFILTER socket for run-time set
 * additions (*.domain answers, dns-responder.c).  Sent with the tap fd. */
static gboolean
net_open_netns_sockets(int *nflog_sock, int *nft_sock, GError **error)
{
	g_autoptr(GError) nflog_error = NULL;
	autoclose int nft = -1;

	*nflog_sock = *nft_sock = -1;
	nft = nft_open_socket(error);
	if (nft < 0)
		return FALSE;
	/* Denial reports are a diagnostic, not a protection: without
	 * nfnetlink_log the ruleset still blocks, so warn and go on. */
	*nflog_sock = nflog_open(SBX_NFLOG_GROUP, &nflog_error);
	if (*nflog_sock < 0)
		sbx_warn("blocked connections will not be reported: %s", nflog_error->message);
	*nft_sock = sbx_steal_fd(&nft);
	return TRUE;
}

gboolean
net_child_setup(SbxNet *net, int chan, GError **error)
{
	autoclose int tun = -1;
	autoclose int rtnl = -1;
	autoclose int nflog = -1;
	autoclose int nft = -1;
	NetHello hello = { .magic = NET_HELLO_MAGIC };
	int fds[4];
	int ret;

	if (net->mode != SBX_NET_TAP) {
		if (!loopback_setup(net->mode, error))
			return sbx_prefix_error(error, "network set-up");
		return TRUE;
	}

	/* Only what must be opened inside the namespace: a socket or the
	 * tun device belongs to the network namespace of whoever opened it.
	 * Through these fds the launcher installs the ruleset while we build
	 * the sandbox's file system, and whichever of us is free first makes
	 * tap0 (net_claim_tap()); net_child_wait_up() waits for the launcher
	 * before the payload starts.  Nothing reaches the guest before then:
	 * the payload does not exist, and the launcher reads no frame before
	 * its main loop. */
	sbx_debug("net: open /dev/net/tun and the namespace's netlink sockets");
	tun = tap_open_device(error);
	if (tun < 0)
		return FALSE;
	rtnl = netconf_open_socket(error);
	if (rtnl < 0)
		return sbx_prefix_error(error, "configure %s", TAP_NAME);
	if (!net_open_netns_sockets(&nflog, &nft, error))
		return sbx_prefix_error(error, "open the resolver's netlink sockets");
	sbx_debug("net: hand them to the launcher");

	fds[hello.nfds++] = tun;
	fds[hello.nfds++] = rtnl;
	if (nflog >= 0) {
		fds[hello.nfds++] = nflog;
		hello.has_nflog = 1;
	}
	fds[hello.nfds++] = nft;
	hello.has_nft = 1;
	ret = sbx_send_fds(chan, &hello, sizeof hello, NULL, 0);
	if (ret == 0)
		ret = sbx_send_fds(chan, &hello, sizeof hello, fds, hello.nfds);
	if (ret < 0)
		return sbx_set_errno(error, -ret, "hand %s to the launcher", TAP_NAME);
	/* The launcher holds them now.  Ours of /dev/net/tun and rtnetlink
	 * stay until net_child_wait_up(), in case tap0 falls to us; the
	 * payload never sees any of them (CLOEXEC, and closed before). */
	net->child_tun = sbx_steal_fd(&tun);
	net->child_rtnl = sbx_steal_fd(&rtnl);
	return TRUE;
}

gboolean
net_child_wait_up(SbxNet *net, int chan, GError **error)
{
	NetAnswer answer;
	gboolean claimed;
	ssize_t n;

	if (net->mode != SBX_NET_TAP)
		return TRUE;
	claimed = net_claim_tap(net, TAP_CLAIM_CHILD);
	/* Asked once: the payload (the library's continuation, a copy of
	 * us) shares no page with the launcher. */
	munmap(net->tap_claim, sizeof *net->tap_claim);
	net->tap_claim = NULL;
	if (claimed) {
		sbx_debug("net: pid 1 creates %s and configures it", TAP_NAME);
		if (!net_setup_tap(net, net->child_tun, sbx_steal_fd(&net->child_rtnl), error))
			return FALSE;
	}
	sbx_close_fdp(&net->child_tun);
	sbx_close_fdp(&net->child_rtnl);
	sbx_debug("net: wait for the launcher's NET_UP");
	/* Bounded by the launcher: if it dies, the socket reads EOF.  One
	 * SEQPACKET message, read whole. */
	memset(&answer, 0, sizeof answer);
	do
		n = recv(chan, &answer, sizeof answer, 0);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return sbx_set_errno(error, errno, "wait for the launcher's network");
	if (n == 0)
		return sbx_set_errno(error, EPIPE, "wait for the launcher's network (it went away)");
	if (answer.status == NET_UP)
		return TRUE;
	answer.message[sizeof answer.message - 1] = '\0';
	g_set_error(error, SBX_ERROR, answer.code ? answer.code : SBX_ERR_OS, "%s",
		    answer.message[0] ? answer.message
				      : "the launcher could not start the user-mode network");
	return FALSE;
}

/* ---- launcher side ------------------------------------------------------- */

/* Write one frame to the guest.  The tap is non-blocking: when its queue is
 * full the frame is dropped, as slirp's contract allows (TCP retransmits);
 * blocking here would stall every connection. */
static ssize_t
net_tap_write(SbxNet *net, const void *frame, size_t len)
{
	static const struct virtio_net_hdr plain;   /* no offloads */
	struct iovec iov[2] = {
		{ .iov_base = (void *)&plain, .iov_len = TAP_VNET_HLEN },
		{ .iov_base = (void *)frame, .iov_len = len },
	};
	ssize_t n;

	if (net->tap_fd < 0)   /* libslirp started before tap0 arrived */
		return (ssize_t)len;
	do
		n = writev(net->tap_fd, iov, 2);
	while (n < 0 && errno == EINTR);
	if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK)
		return -errno;
	return (ssize_t)len;
}

/* SlirpLoopSendFunc (SlirpCb.send_packet) */
static ssize_t
net_slirp_send(const void *frame, size_t len, gpointer opaque)
{
	return net_tap_write(opaque, frame, len);
}

/* DnsSendFrameFunc */
static int
net_dns_send(const uint8_t *frame, size_t len, gpointer opaque)
{
	ssize_t n = net_tap_write(opaque, frame, len);

	return n < 0 ? (int)n : 0;
}

/* The gateway and the resolver are slirp's own addresses: host ports
 * (--allow-host-port) and DNS, not destinations an allowlist names. */
static gboolean
net_is_own_address(const FrameInfo *fi)
{
	static const guint8 own4[][4] = { { 10, 0, 2, 2 }, { 10, 0, 2, 3 } };
	static const guint8 own6_prefix[8] = { 0xfd, 0, 0, 0, 0, 0, 0, 0 };

	if (fi->family == AF_INET)
		return memcmp(fi->daddr, own4[0], 4) == 0 || memcmp(fi->daddr, own4[1], 4) == 0;
	return memcmp(fi->daddr, own6_prefix, 8) == 0;   /* fd00::/64: slirp's */
}

/* --learn with egress open: every new connection the payload makes (a TCP
 * SYN, a UDP datagram), with the name the resolver handed its address out
 * for (net/learn.h). */
static void
net_learn_frame(SbxNet *net, const FrameInfo *fi)
{
	if (!fi->has_ports || fi->fragment || net_is_own_address(fi) ||
	    egress_addr_is_refused_range(fi->family, fi->daddr))
		return;
	if (fi->l4proto == IPPROTO_TCP &&
	    (fi->l4_caplen < 14 || (fi->l4[13] & 0x12) != 0x02))   /* SYN without ACK */
		return;
	learn_connection(net->learner, fi->family, fi->daddr, fi->l4proto, fi->sport, fi->dport,
			 denials_name_for(net->denials, fi->family, fi->daddr));
}

static gboolean net_slirp_for_frame(SbxNet *net, const FrameInfo *fi);

/* One frame from the guest, LEN bytes at FRAME; FI: what frame_parse()
 * found in it, NULL if it could not be parsed — parsed once here for every
 * check below.  TRUE if only the TCP relay saw it: nothing a GLib source
 * owns (slirp, the DNS responder, the logs) has work from it. */
static gboolean
net_handle_frame(SbxNet *net, const uint8_t *frame, size_t len, const FrameInfo *fi)
{
	uint8_t rst[128];
	size_t rst_len;

	if (dns_responder_handle_frame(net->dns, frame, fi))
		return FALSE;
	switch (host_gate_check(net->gate, fi)) {
	case HOST_GATE_PASS:
		break;
	case HOST_GATE_REJECT:
		/* A closed host port: refuse at once (ECONNREFUSED) rather
		 * than let the guest's connect time out. */
		rst_len = host_gate_build_rst(frame, fi, rst, sizeof rst);
		if (rst_len)
			net_tap_write(net, rst, rst_len);
		return FALSE;
	case HOST_GATE_DROP:
	default:
		return FALSE;
	}
	if (!egress_policy_allows_frame(net->policy, fi))
		return FALSE;
	/* past the gate, FI is set */
	if (net->learner && !egress_policy_is_restricted(net->policy))
		net_learn_frame(net, fi);
	if (net->relay && tcp_relay_handle_frame(net->relay, frame, len, fi))
		return TRUE;
	if (net_slirp_for_frame(net, fi))
		slirp_loop_input(net->slirp, frame, len);
	return FALSE;
}

/* FI is a TCP segment with PSH: the end of what the guest's application
 * handed its kernel in one write. */
static gboolean
net_frame_ends_write(const FrameInfo *fi)
{
	int flags = frame_tcp_flags(fi);

	return flags >= 0 && (flags & 0x08);
}

/* Read and handle frames until EAGAIN — or until a segment that ends one of
 * the guest's writes: then the guest most likely sent all it had, and the
 * read that would find the queue empty is skipped (one syscall less per
 * request in a request/response exchange).  The watch is level-triggered,
 * so frames still queued bring the loop straight back.
 *
 * Returns NET_TAP_QUIET when only the TCP relay had work from the batch
 * (the loop may go on waiting without an iteration), NET_TAP_BUSY when
 * other sources may, NET_TAP_GONE when the tap is unusable. */
typedef enum { NET_TAP_QUIET, NET_TAP_BUSY, NET_TAP_GONE } NetTapResult;

static NetTapResult
net_read_tap(SbxNet *net)
{
	gboolean quiet = TRUE;

	for (int i = 0; i < TAP_BATCH_MAX; i++) {
		ssize_t n = read(net->tap_fd, net->frame_buf, TAP_VNET_HLEN + FRAME_BUF_SIZE);
		const uint8_t *frame;
		gboolean parsed;
		FrameInfo fi;
		size_t len;

		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				break;
			/* EBADFD: the sandbox's namespace is gone and took
			 * tap0 with it — the normal end, not worth a warning. */
			if (errno == EBADFD)
				sbx_debug("%s went away with the sandbox", TAP_NAME);
			else
				sbx_warn("read from %s: %s", TAP_NAME, g_strerror(errno));
			return NET_TAP_GONE;
		}
		if (n == 0)
			break;
		/* the guest's kernel has no offloads to tell us about
		 * (tap.c), so the virtio-net header is skipped unread; a
		 * runt is of no use to anyone */
		if ((size_t)n < TAP_VNET_HLEN + FRAME_ETH_HLEN)
			continue;
		frame = net->frame_buf + TAP_VNET_HLEN;
		len = (size_t)n - TAP_VNET_HLEN;
		parsed = frame_parse(frame, len, &fi);
		quiet &= net_handle_frame(net, frame, len, parsed ? &fi : NULL);
		if (parsed && net_frame_ends_write(&fi))
			break;
	}
	/* one ACK per connection for the whole batch */
	if (net->relay && tcp_relay_flush(net->relay))
		quiet = FALSE;
	return quiet ? NET_TAP_QUIET : NET_TAP_BUSY;
}

/* The tap as a GSource (no epoll set for the loop). */
static gboolean
net_on_tap_readable(gint fd, GIOCondition cond, gpointer user_data)
{
	SbxNet *net = user_data;

	if (net_read_tap(net) != NET_TAP_GONE)
		return G_SOURCE_CONTINUE;
	g_clear_pointer(&net->tap_source, g_source_unref);
	return G_SOURCE_REMOVE;
}

/* The tap as a direct watch (LoopEpollDispatchFunc), served inside the
 * loop's wait: a request through the TCP relay costs no GLib iteration. */
static gboolean
net_tap_dispatch(LoopEpollQueue *q, gpointer data)
{
	SbxNet *net = data;
	struct epoll_event ev[4];

	while (loop_epoll_queue_take(q, ev, G_N_ELEMENTS(ev)) > 0)
		;
	switch (net_read_tap(net)) {
	case NET_TAP_QUIET:
		return FALSE;
	case NET_TAP_GONE:
		loop_epoll_watch_remove(net->tap_fd);
		return TRUE;
	case NET_TAP_BUSY:
	default:
		return TRUE;
	}
}

/* Watch the tap: inside the loop's wait when the loop has an epoll set,
 * else as a GSource. */
static void
net_watch_tap(SbxNet *net, GMainContext *ctx)
{
	if (loop_epoll_active(ctx)) {
		net->tap_events = loop_epoll_queue_new(net_tap_dispatch, net);
		net->tap_watch.queue = net->tap_events;
		net->tap_watch.data = net;
		if (loop_epoll_watch_add(&net->tap_watch, net->tap_fd, EPOLLIN) == 0)
			return;
		g_clear_pointer(&net->tap_events, loop_epoll_queue_free);
	}
	net->tap_source = g_unix_fd_source_new(net->tap_fd, G_IO_IN);
	g_source_set_name(net->tap_source, "tap");
	/* no block/unblock (and wakeup-fd signal) around each dispatch; see
	 * slirp-source.c */
	g_source_set_can_recurse(net->tap_source, TRUE);
	g_source_set_callback(net->tap_source, G_SOURCE_FUNC(net_on_tap_readable), net, NULL);
	g_source_attach(net->tap_source, ctx);
}

/* Stop watching the tap (before it is closed). */
static void
net_unwatch_tap(SbxNet *net)
{
	if (net->tap_source) {
		g_source_destroy(net->tap_source);
		g_clear_pointer(&net->tap_source, g_source_unref);
	}
	if (net->tap_events) {
		loop_epoll_watch_remove(net->tap_fd);
		g_clear_pointer(&net->tap_events, loop_epoll_queue_free);
	}
}

static gboolean
net_add_publish(Slirp *slirp, const SbxPublish *pub, GError **error)
{
	const char *haddr = pub->host_addr ? pub->host_addr : "127.0.0.1";
	struct in_addr h4, g4;
	struct sockaddr_in6 h6 = { .sin6_family = AF_INET6 };
	struct sockaddr_in6 g6 = { .sin6_family = AF_INET6 };

	if (inet_pton(AF_INET, haddr, &h4) == 1) {
		inet_pton(AF_INET, VNET_GUEST4_TEXT, &g4);
		errno = 0;
		if (slirp_add_hostfwd(slirp, 0, h4, pub->host_port, g4, pub->guest_port) < 0)
			return sbx_set_errno(error, errno ? errno : EADDRINUSE,
					     "publish %s:%u to sandbox port %u", haddr,
					     pub->host_port, pub->guest_port);
		return TRUE;
	}
	if (inet_pton(AF_INET6, haddr, &h6.sin6_addr) == 1) {
		h6.sin6_port = htons(pub->host_port);
		inet_pton(AF_INET6, VNET_GUEST6_TEXT, &g6.sin6_addr);
		g6.sin6_port = htons(pub->guest_port);
		errno = 0;
		if (slirp_add_hostxfwd(slirp, (struct sockaddr *)&h6, sizeof h6,
				       (struct sockaddr *)&g6, sizeof g6, 0) < 0)
			return sbx_set_errno(error, errno ? errno : EADDRINUSE,
					     "publish [%s]:%u to sandbox port %u", haddr,
					     pub->host_port, pub->guest_port);
		return TRUE;
	}
	g_set_error(error, SBX_ERROR, SBX_ERR_ILLEGAL_NETWORK,
		    "--publish: '%s' is not an IPv4 or IPv6 address", haddr);
	return FALSE;
}

static gboolean
net_start_slirp(SbxNet *net, GMainContext *ctx, GError **error)
{
	const SbxConfig *cfg = net->cfg;
	SlirpConfig sc;

	/* mini-tapbox loads libslirp only now (slirp-lib.h): ~2 ms, most of
	 * it page faults */
	sbx_debug("net: load and start libslirp");
	if (!sbx_slirp_load(error))
		return FALSE;
	memset(&sc, 0, sizeof sc);   /* fields of later versions stay 0 */
	sc.version = 4;
	sc.restricted = 0;           /* policy is nft's job; 1 would kill DNS */
	sc.in_enabled = true;
	/* slirp's virtual network (net/vnet.h, doc/PLATFORM.md §1.2) */
	inet_pton(AF_INET, VNET_NET4_TEXT, &sc.vnetwork);
	inet_pton(AF_INET, VNET_NETMASK4_TEXT, &sc.vnetmask);
	inet_pton(AF_INET, VNET_GATEWAY4_TEXT, &sc.vhost);
	inet_pton(AF_INET, VNET_DHCP_START4_TEXT, &sc.vdhcp_start);
	inet_pton(AF_INET, VNET_RESOLVER4_TEXT, &sc.vnameserver);
	sc.in6_enabled = true;
	inet_pton(AF_INET6, VNET_NET6_TEXT, &sc.vprefix_addr6);
	sc.vprefix_len = VNET_NET6_PREFIX;
	inet_pton(AF_INET6, VNET_GATEWAY6_TEXT, &sc.vhost6);
	inet_pton(AF_INET6, VNET_RESOLVER6_TEXT, &sc.vnameserver6);
	sc.if_mtu = net->mtu;
	sc.if_mru = net->mtu;
	/* Host loopback stays closed in slirp itself unless ports are opened;
	 * then the host gate (hostgate.h) admits exactly those ports. */
	sc.disable_host_loopback = !host_gate_has_ports(net->gate);
	sc.enable_emu = false;       /* "isn't safe" (libslirp.h) */
	sc.disable_dhcp = true;      /* static configuration in the child */
	/* The built-in resolver (dns.h) answers UDP to 10.0.2.3 / fd00::3
	 * before frames reach slirp; slirp's own forwarder would relay
	 * anything else sent there (e.g. TCP/53) to the host's resolver. */
	sc.disable_dns = true;

	net->slirp = slirp_loop_new(&sc, ctx, net_slirp_send, net, error);
	if (!net->slirp)
		return FALSE;
	for (guint i = 0; cfg->publish && i < cfg->publish->len; i++)
		if (!net_add_publish(slirp_loop_get_slirp(net->slirp),
				     &g_array_index(cfg->publish, SbxPublish, i), error))
			return FALSE;
	sbx_debug("net: libslirp started");
	return TRUE;
}

static gboolean
net_receive_fds(SbxNet *net, int chan, int *rtnl, int *nflog, int *nft, GError **error)
{
	NetHello hello, again;
	int fds[4] = { -1, -1, -1, -1 };
	int ret;
	guint k = 2;

	ret = sbx_recv_fds(chan, &hello, sizeof hello, NULL, 0);
	if (ret == -EPIPE)
		return sbx_set_errno(error, EPIPE, "receive %s from the set-up child (it exited)",
				     TAP_NAME);
	if (ret < 0)
		return sbx_set_errno(error, -ret, "receive %s from the set-up child", TAP_NAME);
	if (hello.magic != NET_HELLO_MAGIC || hello.has_nflog > 1 || hello.has_nft > 1 ||
	    hello.nfds != 2u + hello.has_nflog + hello.has_nft)
		return sbx_set_errno(error, EPROTO, "receive %s from the set-up child", TAP_NAME);
	ret = sbx_recv_fds(chan, &again, sizeof again, fds, hello.nfds);
	if (ret < 0)
		return sbx_set_errno(error, -ret, "receive %s from the set-up child", TAP_NAME);
	if (memcmp(&hello, &again, sizeof hello) != 0) {
		for (guint i = 0; i < hello.nfds; i++)
			close(fds[i]);
		return sbx_set_errno(error, EPROTO, "receive %s from the set-up child", TAP_NAME);
	}
	net->tap_fd = fds[0];
	*rtnl = fds[1];
	if (hello.has_nflog)
		*nflog = fds[k++];
	if (hello.has_nft)
		*nft = fds[k++];
	return TRUE;
}

/* TcpRelayRefusedFunc: the name gate refused a connection; it is reported
 * with the other denials (-v, --log, the exit summary). */
static void
net_report_name_refusal(int family, const uint8_t *addr, guint16 port, const char *reason,
			const char *name, gpointer data)
{
	SbxNet *net = data;

	denials_refused_on_wire(net->denials, family, addr, port, reason, name);
}

/* The relay's name gate, for an allowlist with domain entries (issue 13).
 * Without the relay nothing could check names: refuse to start rather
 * than let every site on those addresses through. */
static gboolean
net_start_name_gate(SbxNet *net, GError **error)
{
	if (net->cfg->no_name_check || !egress_policy_has_names(net->policy))
		return TRUE;
	if (!net->relay)
		return sbx_set_errno(error, ENOTSUP, "start the TCP relay that checks the names "
				     "of the allowlist's domain entries (--no-name-check turns the "
				     "check off)");
	tcp_relay_set_name_gate(net->relay, net->policy, net_report_name_refusal, net);
	return TRUE;
}

/* Everything the payload must not start without: the ruleset installed
 * and read back, the relay with its name gate, the resolver, tap0 made and
 * configured (by us or by pid 1, net_claim_tap()); libslirp too when
 * --publish ports must be bound first (their errors come before the
 * payload).  Otherwise libslirp loads after NET_UP (--slirp-tcp: while
 * the payload starts) or for the first frame that needs it
 * (net_slirp_for_frame()): no frame is read from tap0 before the main
 * loop, so nothing leaves the sandbox before it is up
 * (net_launcher_attach()). */
static gboolean
net_attach_tap(SbxNet *net, int chan, GMainContext *ctx, GError **error)
{
	g_autoptr(GError) slirp_error = NULL;
	autoclose int rtnl = -1;
	autoclose int nflog = -1;
	autoclose int nft = -1;
	gboolean slirp_ok = TRUE;

	/* While pid 1 opens the namespace's sockets: the ruleset's batch
	 * needs none of them. */
	egress_policy_prepare_install(net->policy);
	net->ctx = ctx;
	if (net->cfg->publish && net->cfg->publish->len)
		net->slirp_when = SLIRP_BEFORE_UP;
	else
		net->slirp_when = net->cfg->slirp_tcp ? SLIRP_AFTER_UP : SLIRP_ON_DEMAND;
	if (net->slirp_when == SLIRP_BEFORE_UP)
		slirp_ok = net_start_slirp(net, ctx, &slirp_error);
	sbx_debug("net: receive the sandbox's fds");
	/* Even when libslirp failed (a --publish port in use): the child's
	 * messages must not be left unread, or closing the channel would
	 * reset it and the child would report that instead of our error. */
	if (!net_receive_fds(net, chan, &rtnl, &nflog, &nft, error))
		return FALSE;
	if (!slirp_ok) {
		g_propagate_error(error, g_steal_pointer(&slirp_error));
		return FALSE;
	}
	if (nft < 0)
		return sbx_set_errno(error, EPROTO, "receive the sandbox's nft socket");
	sbx_debug("net: install the egress ruleset");
	if (!egress_policy_install(net->policy, nft, error))
		return FALSE;
	sbx_debug("net: relay, resolver, denial log");
	if (!g_unix_set_fd_nonblocking(net->tap_fd, TRUE, NULL))
		return sbx_set_errno(error, errno, "make %s non-blocking", TAP_NAME);
	if (!net->cfg->slirp_tcp) {
		net->relay = tcp_relay_new(ctx, net->tap_fd, net->mtu);
		/* It needs the loop's epoll set (loop-epoll.h); without one,
		 * TCP goes through slirp as with --slirp-tcp. */
		if (!net->relay) {
			sbx_debug("TCP relay unavailable (%s): TCP through libslirp",
				  g_strerror(errno));
			if (net->slirp_when == SLIRP_ON_DEMAND)
				net->slirp_when = SLIRP_AFTER_UP;
		}
	}
	net->denials = denials_new(net->policy, net->cfg, ctx, sbx_steal_fd(&nflog));
	denials_set_learner(net->denials, net->learner);
	net->dns = dns_responder_new(net->policy, net->cfg, ctx, sbx_steal_fd(&nft),
				     net->denials, net_dns_send, net);
	if (!net_start_name_gate(net, error))
		return FALSE;
	/* Unless pid 1 got there first: then it makes tap0 before it waits
	 * for NET_UP, and so before its set-up report, after which the
	 * launcher starts watching the fd (net_launcher_watch()). */
	if (net_claim_tap(net, TAP_CLAIM_LAUNCHER)) {
		sbx_debug("net: create %s and configure it", TAP_NAME);
		if (!net_setup_tap(net, net->tap_fd, sbx_steal_fd(&rtnl), error))
			return FALSE;
	}
	return TRUE;
}

/* After NET_UP: libslirp, if it was left until then. */
static gboolean
net_finish_attach(SbxNet *net, GMainContext *ctx, GError **error)
{
	if (net->slirp_when == SLIRP_AFTER_UP && !net_start_slirp(net, ctx, error))
		return FALSE;
	return TRUE;
}

void
net_set_fatal_func(SbxNet *net, SbxNetFatalFunc func, gpointer data)
{
	net->fatal = func;
	net->fatal_data = data;
}

/* libslirp learns the guest's MAC from its ARP requests and neighbour
 * solicitations, which tap0's permanent entries made unnecessary: without
 * it, libslirp's first packet to the guest (an answer, a SYN-ACK with
 * --slirp-tcp, a published connection's SYN) waits behind its own ARP
 * request until its next poll, 0.5-1 s later, or is dropped after a
 * second.  So once libslirp runs and tap0 is attached, the guest is
 * announced to it, for both its addresses. */
static void
net_slirp_meet_guest(SbxNet *net)
{
	static const guint8 guest4[4] = VNET_GUEST4_BYTES;
	static const guint8 guest6[16] = VNET_GUEST6_BYTES;
	uint8_t f[FRAME_ANNOUNCE_MAX];
	guint8 mac[6];

	if (!net->slirp || net->slirp_met_guest)
		return;
	if (!tap_get_mac(net->tap_fd, mac)) {
		sbx_debug("net: %s's MAC: %s; libslirp will ask for it", TAP_NAME,
			  g_strerror(errno));
		return;
	}
	net->slirp_met_guest = TRUE;
	slirp_loop_input(net->slirp, f, frame_build_arp_announce(mac, guest4, f));
	slirp_loop_input(net->slirp, f, frame_build_na_announce(mac, guest6, f));
}

/* Would libslirp act on FI's frame?  TCP (not the relay's), UDP other
 * than DNS to the resolver, ICMP, ICMPv6 echo requests.  The rest is ARP
 * and neighbour discovery, which tap0's permanent entries leave nothing
 * to ask of the gateway and the resolver (libslirp answers for no other
 * address), router solicitations (the routes are static) and multicast
 * listener reports: libslirp would drop them. */
static gboolean
net_frame_needs_slirp(const FrameInfo *fi)
{
	if (!fi || fi->family == AF_UNSPEC)
		return FALSE;
	switch (fi->l4proto) {
	case IPPROTO_TCP:
	case IPPROTO_UDP:
	case IPPROTO_ICMP:
		return TRUE;
	case IPPROTO_ICMPV6:
		return fi->l4 && fi->l4_caplen >= 1 && fi->l4[0] == 128;   /* echo request */
	default:
		return FALSE;
	}
}


/* libslirp for a frame that needs it, loaded now if it was left until
 * then.  FALSE: drop the frame.  A libslirp that cannot load ends the
 * sandbox, as it did when it was loaded at every start (exit 125, the
 * message with the fix). */
static gboolean
net_slirp_for_frame(SbxNet *net, const FrameInfo *fi)
{
	g_autoptr(GError) error = NULL;

	if (net->slirp)
		return TRUE;
	if (net->slirp_when != SLIRP_ON_DEMAND || !net_frame_needs_slirp(fi))
		return FALSE;
	if (net_start_slirp(net, net->ctx, &error)) {
		net_slirp_meet_guest(net);
		return TRUE;
	}
	net->slirp_when = SLIRP_FAILED;   /* one attempt */
	g_clear_pointer(&net->slirp, slirp_loop_free);
	if (net->fatal)
		net->fatal(error, net->fatal_data);
	else
		sbx_warn("%s", error->message);
	return FALSE;
}

void
net_launcher_watch(SbxNet *net, GMainContext *ctx)
{
	if (net->mode != SBX_NET_TAP || net->tap_source || net->tap_events)
		return;
	net->frame_buf = g_malloc(TAP_VNET_HLEN + FRAME_BUF_SIZE);
	net_slirp_meet_guest(net);   /* --publish, --slirp-tcp: loaded already */
	net_watch_tap(net, ctx);
	sbx_debug("network up: %s MTU %u, host ports %s, %u published", TAP_NAME, net->mtu,
		  host_gate_has_ports(net->gate) ? "open" : "closed",
		  net->cfg->publish ? net->cfg->publish->len : 0);
}

gboolean
net_launcher_attach(SbxNet *net, int chan, GMainContext *ctx, GError **error)
{
	g_autoptr(GError) local = NULL;
	NetAnswer answer;
	int ret;

	if (net->mode != SBX_NET_TAP)
		return TRUE;
	/* A guest connection closed by the far end must not kill the launcher
	 * (slirp writes to host sockets; slirp4netns does the same). */
	signal(SIGPIPE, SIG_IGN);
	memset(&answer, 0, sizeof answer);
	if (!net_attach_tap(net, chan, ctx, &local)) {
		answer.status = NET_FAILED;
		answer.code = local->domain == SBX_ERROR ? local->code : SBX_ERR_OS;
		g_strlcpy(answer.message, local->message, sizeof answer.message);
		/* best effort: a child that already died cannot be told */
		sbx_write_all(chan, &answer, sizeof answer);
		g_propagate_error(error, g_steal_pointer(&local));
		return FALSE;
	}
	sbx_debug("net: NET_UP");
	answer.status = NET_UP;
	ret = sbx_write_all(chan, &answer, sizeof answer);
	if (ret < 0)
		return sbx_set_errno(error, -ret, "tell the set-up child the network is up");
	/* The payload may start from here on.  Should libslirp fail to load
	 * now (--slirp-tcp), the launcher ends the sandbox (launcher_free())
	 * before its loop has read a single frame: the payload never had a
	 * network. */
	return net_finish_attach(net, ctx, error);
}

/* Is PATH one of the -F lists?  Then --learn grows it: what it held, then
 * what this run adds. */
static gboolean
net_learn_grows_base(const SbxConfig *cfg)
{
	g_autofree char *learn = g_canonicalize_filename(cfg->learn_file, "/");

	for (guint i = 0; i < cfg->allow_files->len; i++) {
		g_autofree char *f = g_canonicalize_filename(g_ptr_array_index(cfg->allow_files, i), "/");

		if (strcmp(f, learn) == 0)
			return TRUE;
	}
	return FALSE;
}

/* --learn: the launcher writes the list after the sandbox is gone (so
 * nothing inside can race the write; the file is read-only inside while
 * it runs, mount-plan.c), atomically (net/learn.h). */
static void
net_write_learned(SbxNet *net)
{
	g_autoptr(GError) error = NULL;
	g_autofree char *prefix = NULL;
	g_autofree char *command = NULL;
	const char *file = net->cfg->learn_file;
	gsize len;

	if (!net->learner)
		return;
	if (net_learn_grows_base(net->cfg)) {
		prefix = sbx_read_settings_file(file, "--learn", 4 << 20, &len, &error);
		if (!prefix) {
			sbx_warn("%s; the learned list is not written", error->message);
			return;
		}
	}
	if (net->cfg->argv && net->cfg->argv[0])
		command = g_path_get_basename(net->cfg->argv[0]);
	if (!learn_write_file(net->learner, file, prefix, command, &error)) {
		sbx_warn("%s", error->message);
		return;
	}
	sbx_debug("learned allowlist written to %s", file);
}

void
net_finish(SbxNet *net)
{
	if (!net || net->finished)
		return;
	net->finished = TRUE;
	if (net->dns)
		dns_responder_print_summary(net->dns);
	denials_finish(net->denials);
	net_write_learned(net);
	if (net->gate && host_gate_refused(net->gate))
		sbx_debug("host gate refused %" G_GUINT64_FORMAT " frames to the host's loopback",
			  host_gate_refused(net->gate));
	net_unwatch_tap(net);
	g_clear_pointer(&net->dns, dns_responder_free);
	g_clear_pointer(&net->denials, denials_free);
	g_clear_pointer(&net->relay, tcp_relay_free);
	g_clear_pointer(&net->slirp, slirp_loop_free);
	/* Not the last reference to tap0 any more: cheap (tap_attach()). */
	sbx_close_fdp(&net->tap_fd);
}

void
net_free(SbxNet *net)
{
	if (!net)
		return;
	net_unwatch_tap(net);
	g_clear_pointer(&net->dns, dns_responder_free);
	g_clear_pointer(&net->denials, denials_free);
	g_clear_pointer(&net->relay, tcp_relay_free);
	g_clear_pointer(&net->slirp, slirp_loop_free);
	sbx_close_fdp(&net->tap_fd);
	sbx_close_fdp(&net->child_tun);
	sbx_close_fdp(&net->child_rtnl);
	if (net->tap_claim)
		munmap(net->tap_claim, sizeof *net->tap_claim);
	g_clear_pointer(&net->learner, learn_free);
	g_clear_pointer(&net->gate, host_gate_free);
	g_clear_pointer(&net->policy, egress_policy_free);
	g_free(net->resolv_conf);
	g_free(net->hosts);
	g_free(net->frame_buf);
	g_free(net);
}
