/* SPDX-License-Identifier: MIT
 *
 * nft-apply.c — the socket side of nft.h: one batch in, every reply out,
 * the ruleset read back and compared, and run-time set additions.
 */
#include "net/nft/nft.h"
#include "net/nft/nft-int.h"
#include "common/error.h"
#include "common/fdutil.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <libmnl/libmnl.h>
#include <libnftnl/chain.h>
#include <libnftnl/common.h>
#include <libnftnl/expr.h>
#include <libnftnl/rule.h>
#include <libnftnl/set.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define NFT_UNAVAILABLE_FIX \
	"the kernel needs nf_tables with the inet family, reject, ct, log, lookup and " \
	"connlimit expressions (modprobe nf_tables nft_reject_inet nft_ct nft_log " \
	"nfnetlink_log nft_connlimit, or CONFIG_NF_TABLES_INET=y)"

static gboolean
nft_errno(GError **error, int err, const char *what)
{
	if (err == ENOENT || err == EOPNOTSUPP || err == EAFNOSUPPORT ||
	    err == EPROTONOSUPPORT) {
		g_set_error(error, SBX_ERROR, SBX_ERR_OS,
			    "nf_tables unavailable: %s: %s; %s", what, g_strerror(err),
			    NFT_UNAVAILABLE_FIX);
		return FALSE;
	}
	return sbx_set_errno(error, err, "nftables: %s", what);
}

int
nft_open_socket(GError **error)
{
	int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_NETFILTER);
	struct sockaddr_nl snl = { .nl_family = AF_NETLINK };

	if (fd < 0) {
		nft_errno(error, errno, "open NETLINK_NETFILTER socket");
		return -1;
	}
	if (bind(fd, (struct sockaddr *)&snl, sizeof snl) < 0) {
		int err = errno;

		close(fd);
		nft_errno(error, err, "bind NETLINK_NETFILTER socket");
		return -1;
	}
	return fd;
}

/* Read every queued reply (the kernel handled the batch inside sendmsg).
 * Counts ACKs; the first error wins.  WAIT_MS bounds the wait for the
 * first reply only when EXPECT ACKs have not arrived yet. */
static gboolean
drain_replies(int fd, guint expect, const NftBatch *b, GError **error)
{
	guint acks = 0;
	int first_err = 0;
	guint32 err_seq = 0;
	g_autofree char *buf = g_malloc(MNL_SOCKET_BUFFER_SIZE * 4);

	for (;;) {
		ssize_t n = recv(fd, buf, MNL_SOCKET_BUFFER_SIZE * 4, MSG_DONTWAIT);
		struct nlmsghdr *nlh;
		int len;

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN) {
			struct pollfd pfd = { .fd = fd, .events = POLLIN };

			/* all replies are normally queued already; wait a little
			 * only if some are missing, never forever */
			if (acks >= expect || first_err || poll(&pfd, 1, 1000) <= 0)
				break;
			continue;
		}
		if (n < 0)
			return nft_errno(error, errno, "read batch replies");
		len = (int)n;
		for (nlh = (struct nlmsghdr *)buf; mnl_nlmsg_ok(nlh, len);
		     nlh = mnl_nlmsg_next(nlh, &len)) {
			const struct nlmsgerr *e;

			if (nlh->nlmsg_type != NLMSG_ERROR)
				continue;
			e = mnl_nlmsg_get_payload(nlh);
			if (e->error == 0) {
				acks++;
			} else if (!first_err) {
				first_err = -e->error;
				err_seq = nlh->nlmsg_seq;
			}
		}
		/* the kernel queues the replies in message order: after the
		 * last ACK asked for, there is nothing more to read */
		if (acks >= expect)
			break;
	}
	if (first_err)
		return nft_errno(error, first_err, b ? nft_batch_describe(b, err_seq) : "batch");
	if (acks < expect) {
		g_set_error(error, SBX_ERROR, SBX_ERR_OS,
			    "nftables: %u of %u replies to the ruleset batch missing", expect - acks,
			    expect);
		return FALSE;
	}
	return TRUE;
}

static gboolean
send_batch(int fd, NftBatch *b, GError **error)
{
	g_autofree struct iovec *iov = NULL;
	int n = nft_batch_iov(b, &iov);
	struct sockaddr_nl snl = { .nl_family = AF_NETLINK };
	struct msghdr msg = { .msg_name = &snl, .msg_namelen = sizeof snl,
			      .msg_iov = iov, .msg_iovlen = (size_t)n };
	size_t total = 0;
	int sz;

	for (int i = 0; i < n; i++)
		total += iov[i].iov_len;
	/* netlink refuses a message larger than the send buffer (EMSGSIZE);
	 * a big allowlist needs more than the default */
	sz = (int)MIN(total + 4096, (size_t)G_MAXINT / 2);
	if (setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sz, sizeof sz) < 0)
		return sbx_set_errno(error, errno, "nftables: set SO_SNDBUF");
	sz = 1 << 20;
	(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof sz);
	while (sendmsg(fd, &msg, 0) < 0) {
		if (errno == EINTR)
			continue;
		if (errno == EMSGSIZE)
			return sbx_set_errno(error, errno,
					     "nftables: ruleset batch of %zu bytes (raise "
					     "net.core.wmem_max or shorten the allowlist)", total);
		return nft_errno(error, errno, "send ruleset batch");
	}
	return TRUE;
}

/* ---------- read back ---------- */

typedef struct {
	GPtrArray *objs;       /* parsed objects */
	int kind;              /* 'k' element keys, 'r' rule, 'c' chain */
	GArray *keys;          /* 'k': NftElemKey */
} DumpCtx;

/* Element keys of one GETSETELEM reply, walked with libmnl directly:
 * nftnl_set_elems_nlmsg_parse() allocates an object per element, which
 * made reading back a 10 000-entry list cost more than installing it. */
static int
dump_keys(const struct nlmsghdr *nlh, GArray *keys)
{
	const struct nlattr *a, *el, *ea, *d;

	mnl_attr_for_each(a, nlh, sizeof(struct nfgenmsg)) {
		if (mnl_attr_get_type(a) != NFTA_SET_ELEM_LIST_ELEMENTS)
			continue;
		mnl_attr_for_each_nested(el, a) {
			NftElemKey k = { 0 };

			mnl_attr_for_each_nested(ea, el) {
				if (mnl_attr_get_type(ea) == NFTA_SET_ELEM_FLAGS &&
				    mnl_attr_get_payload_len(ea) == 4 &&
				    (ntohl(mnl_attr_get_u32(ea)) & NFT_SET_ELEM_INTERVAL_END))
					k.end = 1;
				if (mnl_attr_get_type(ea) != NFTA_SET_ELEM_KEY)
					continue;
				mnl_attr_for_each_nested(d, ea) {
					guint16 len = mnl_attr_get_payload_len(d);

					if (mnl_attr_get_type(d) != NFTA_DATA_VALUE || len > 16)
						return MNL_CB_ERROR;
					k.len = (guint8)len;
					memcpy(k.key, mnl_attr_get_payload(d), len);
				}
			}
			g_array_append_val(keys, k);
		}
	}
	return MNL_CB_OK;
}

static int
dump_cb(const struct nlmsghdr *nlh, void *data)
{
	DumpCtx *c = data;

	switch (c->kind) {
	case 'k':
		return dump_keys(nlh, c->keys);
	case 'r': {
		struct nftnl_rule *r = nftnl_rule_alloc();

		if (nftnl_rule_nlmsg_parse(nlh, r) < 0) {
			nftnl_rule_free(r);
			return MNL_CB_ERROR;
		}
		g_ptr_array_add(c->objs, r);
		break;
	}
	case 'c': {
		struct nftnl_chain *ch = nftnl_chain_alloc();

		if (nftnl_chain_nlmsg_parse(nlh, ch) < 0) {
			nftnl_chain_free(ch);
			return MNL_CB_ERROR;
		}
		g_ptr_array_add(c->objs, ch);
		break;
	}
	default:
		break;
	}
	return MNL_CB_OK;
}

/* Send one dump request (already in BUF) and run its replies through dump_cb. */
static gboolean
dump(struct mnl_socket *nl, struct nlmsghdr *req, DumpCtx *c, const char *what,
     GError **error)
{
	g_autofree char *buf = g_malloc(MNL_SOCKET_BUFFER_SIZE * 4);
	guint32 portid = mnl_socket_get_portid(nl);
	guint32 seq = req->nlmsg_seq;
	int ret;

	if (mnl_socket_sendto(nl, req, req->nlmsg_len) < 0)
		return nft_errno(error, errno, what);
	do {
		ssize_t n = mnl_socket_recvfrom(nl, buf, MNL_SOCKET_BUFFER_SIZE * 4);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return nft_errno(error, errno, what);
		ret = mnl_cb_run(buf, (size_t)n, seq, portid, dump_cb, c);
	} while (ret > 0);
	if (ret < 0)
		return nft_errno(error, errno, what);
	return TRUE;
}

static char *
expr_text(struct nftnl_expr *e)
{
	char buf[512];

	nftnl_expr_snprintf(buf, sizeof buf, e, NFTNL_OUTPUT_DEFAULT, 0);
	return g_strdup_printf("%s %s", nftnl_expr_get_str(e, NFTNL_EXPR_NAME), buf);
}

/* The rule's expressions as text, skipping what the kernel fills in
 * itself (set ids are transaction-local and not dumped). */
static char *
rule_text(struct nftnl_rule *r)
{
	GString *s = g_string_new(nftnl_rule_get_str(r, NFTNL_RULE_CHAIN));
	struct nftnl_expr_iter *it = nftnl_expr_iter_create(r);
	struct nftnl_expr *e;

	while ((e = nftnl_expr_iter_next(it))) {
		g_autofree char *t = expr_text(e);
		char *id = strstr(t, " 0x");

		if (g_str_has_prefix(t, "lookup") && id)
			*id = '\0';
		g_string_append_printf(s, " [%s]", g_strstrip(t));
	}
	nftnl_expr_iter_destroy(it);
	return g_string_free(s, FALSE);
}

static int
key_cmp(gconstpointer a, gconstpointer b)
{
	return memcmp(a, b, sizeof(NftElemKey));
}

static int
str_cmp(gconstpointer a, gconstpointer b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static gboolean
verify_set(struct mnl_socket *nl, struct nftnl_set *want, GArray *want_keys, guint32 *seq,
	   GError **error)
{
	const char *name = nftnl_set_get_str(want, NFTNL_SET_NAME);
	g_autoptr(GArray) w = g_array_copy(want_keys);
	g_autoptr(GArray) got_keys = g_array_new(FALSE, TRUE, sizeof(NftElemKey));
	struct nftnl_set *got = nftnl_set_alloc();
	DumpCtx c = { .kind = 'k', .keys = got_keys };
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh;
	gboolean ok;

	nftnl_set_set_str(got, NFTNL_SET_TABLE, NFT_TABLE_NAME);
	nftnl_set_set_str(got, NFTNL_SET_NAME, name);
	nftnl_set_set_u32(got, NFTNL_SET_FAMILY, NFPROTO_INET);
	nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_GETSETELEM, NFPROTO_INET, NLM_F_DUMP | NLM_F_ACK,
				    (*seq)++);
	nftnl_set_elems_nlmsg_build_payload(nlh, got);
	ok = dump(nl, nlh, &c, "read back set elements", error);
	if (ok) {
		g_array_sort(w, key_cmp);
		g_array_sort(got_keys, key_cmp);
		if (w->len != got_keys->len ||
		    (w->len && memcmp(w->data, got_keys->data, w->len * sizeof(NftElemKey)) != 0)) {
			g_set_error(error, SBX_ERROR, SBX_ERR_OS,
				    "nftables: set %s read back differs: %u elements installed, "
				    "%u expected", name, got_keys->len, w->len);
			ok = FALSE;
		}
	}
	nftnl_set_free(got);
	return ok;
}

static gboolean
verify_ruleset(struct mnl_socket *nl, const NftObjects *want, GError **error)
{
	g_autoptr(GPtrArray) sets = g_ptr_array_new_with_free_func((GDestroyNotify)nftnl_set_free);
	g_autoptr(GPtrArray) rules = g_ptr_array_new_with_free_func(
		(GDestroyNotify)nftnl_rule_free);
	g_autoptr(GPtrArray) chains = g_ptr_array_new_with_free_func(
		(GDestroyNotify)nftnl_chain_free);
	DumpCtx c;
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh;
	guint32 seq = (guint32)time(NULL) ^ 0x5a5a0000u;
	/* chains: the output base chain must have our hook and policy */
	{
		struct nftnl_chain *q = nftnl_chain_alloc();

		nftnl_chain_set_str(q, NFTNL_CHAIN_TABLE, NFT_TABLE_NAME);
		nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_GETCHAIN, NFPROTO_INET, NLM_F_DUMP | NLM_F_ACK,
					    seq++);
		nftnl_chain_nlmsg_build_payload(nlh, q);
		nftnl_chain_free(q);
	}
	c = (DumpCtx){ .objs = chains, .kind = 'c' };
	if (!dump(nl, nlh, &c, "read back chains", error))
		return FALSE;
	{
		gboolean found = FALSE;

		for (guint i = 0; i < chains->len; i++) {
			struct nftnl_chain *ch = chains->pdata[i];

			if (g_strcmp0(nftnl_chain_get_str(ch, NFTNL_CHAIN_TABLE), NFT_TABLE_NAME) ||
			    g_strcmp0(nftnl_chain_get_str(ch, NFTNL_CHAIN_NAME), NFT_CHAIN_OUTPUT))
				continue;
			found = nftnl_chain_get_u32(ch, NFTNL_CHAIN_HOOKNUM) == NF_INET_LOCAL_OUT &&
				nftnl_chain_get_u32(ch, NFTNL_CHAIN_POLICY) ==
					nftnl_chain_get_u32(want->output, NFTNL_CHAIN_POLICY);
		}
		if (!found) {
			g_set_error(error, SBX_ERROR, SBX_ERR_OS,
				    "nftables: chain %s missing or wrong after install",
				    NFT_CHAIN_OUTPUT);
			return FALSE;
		}
	}

	for (guint i = 0; i < want->sets->len; i++)
		if (!verify_set(nl, want->sets->pdata[i], want->set_keys->pdata[i], &seq, error))
			return FALSE;

	{
		struct nftnl_rule *q = nftnl_rule_alloc();

		nftnl_rule_set_str(q, NFTNL_RULE_TABLE, NFT_TABLE_NAME);
		nftnl_rule_set_u32(q, NFTNL_RULE_FAMILY, NFPROTO_INET);
		nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_GETRULE, NFPROTO_INET, NLM_F_DUMP | NLM_F_ACK,
					    seq++);
		nftnl_rule_nlmsg_build_payload(nlh, q);
		nftnl_rule_free(q);
	}
	c = (DumpCtx){ .objs = rules, .kind = 'r' };
	if (!dump(nl, nlh, &c, "read back rules", error))
		return FALSE;
	{
		/* the dump lists rules chain by chain in creation order; compare
		 * per chain, in order */
		g_autoptr(GPtrArray) w = g_ptr_array_new_with_free_func(g_free);
		g_autoptr(GPtrArray) g = g_ptr_array_new_with_free_func(g_free);

		for (guint i = 0; i < want->rules->len; i++)
			g_ptr_array_add(w, rule_text(want->rules->pdata[i]));
		for (guint i = 0; i < rules->len; i++)
			if (!g_strcmp0(nftnl_rule_get_str(rules->pdata[i], NFTNL_RULE_TABLE),
				       NFT_TABLE_NAME))
				g_ptr_array_add(g, rule_text(rules->pdata[i]));
		g_ptr_array_sort(w, str_cmp);
		g_ptr_array_sort(g, str_cmp);
		if (w->len != g->len) {
			g_set_error(error, SBX_ERROR, SBX_ERR_OS,
				    "nftables: %u rules installed, %u expected", g->len, w->len);
			return FALSE;
		}
		for (guint i = 0; i < w->len; i++) {
			if (strcmp(w->pdata[i], g->pdata[i]) != 0) {
				g_set_error(error, SBX_ERROR, SBX_ERR_OS,
					    "nftables: rule read back differs: %s (expected %s)",
					    (char *)g->pdata[i], (char *)w->pdata[i]);
				return FALSE;
			}
		}
	}
	return TRUE;
}

struct NftInstall {
	NftObjects *objects;
	NftBatch *batch;
};

NftInstall *
nft_install_new(const NftPolicy *p)
{
	NftInstall *in = g_new0(NftInstall, 1);

	in->objects = nft_objects_build(p);
	in->batch = nft_objects_batch(in->objects, (guint32)time(NULL));
	return in;
}

void
nft_install_free(NftInstall *in)
{
	if (!in)
		return;
	g_clear_pointer(&in->batch, nft_batch_free);
	g_clear_pointer(&in->objects, nft_objects_free);
	g_free(in);
}

gboolean
nft_install_run(const NftInstall *in, int sock, GError **error)
{
	struct mnl_socket *nl;
	int fd = fcntl(sock, F_DUPFD_CLOEXEC, 3);
	gboolean ok;

	/* a copy: mnl_socket_close() closes it, SOCK stays the caller's */
	if (fd < 0)
		return nft_errno(error, errno, "duplicate the NETLINK_NETFILTER socket");
	nl = mnl_socket_fdopen(fd);
	if (!nl) {
		int err = errno;

		close(fd);
		return nft_errno(error, err, "use the NETLINK_NETFILTER socket");
	}
	ok = send_batch(mnl_socket_get_fd(nl), in->batch, error) &&
	     drain_replies(mnl_socket_get_fd(nl), nft_batch_acks(in->batch), in->batch, error) &&
	     verify_ruleset(nl, in->objects, error);
	mnl_socket_close(nl);
	return ok;
}

/* One NEWSETELEM (DEL: DELSETELEM) batch of N addresses for SET. */
static gboolean
runtime_elems(int sock, const char *set, int family, const void *addrs, guint n,
	      guint timeout_secs, gboolean del, GError **error)
{
	const char *verb = del ? "remove" : "add";
	gsize keylen = family == AF_INET ? 4 : 16;
	gsize size = MNL_SOCKET_BUFFER_SIZE + n * 64;
	g_autofree char *buf = g_malloc0(size);
	struct mnl_nlmsg_batch *batch = mnl_nlmsg_batch_start(buf, size);
	struct nftnl_set *s = nftnl_set_alloc();
	struct nlmsghdr *nlh;
	guint32 seq = (guint32)g_random_int();
	struct sockaddr_nl snl = { .nl_family = AF_NETLINK };
	ssize_t sent;
	gboolean ok;

	if (family != AF_INET && family != AF_INET6) {
		mnl_nlmsg_batch_stop(batch);
		nftnl_set_free(s);
		g_set_error(error, SBX_ERROR, SBX_ERR_OS, "nftables: %s in set %s: bad family %d",
			    verb, set, family);
		return FALSE;
	}
	nftnl_set_set_str(s, NFTNL_SET_TABLE, NFT_TABLE_NAME);
	nftnl_set_set_str(s, NFTNL_SET_NAME, set);
	nftnl_set_set_u32(s, NFTNL_SET_FAMILY, NFPROTO_INET);
	for (guint i = 0; i < n; i++) {
		struct nftnl_set_elem *e = nftnl_set_elem_alloc();

		nftnl_set_elem_set(e, NFTNL_SET_ELEM_KEY, (const guint8 *)addrs + i * keylen,
				   (guint32)keylen);
		if (!del)
			nftnl_set_elem_set_u64(e, NFTNL_SET_ELEM_TIMEOUT,
					       (guint64)MAX(timeout_secs, 1u) * 1000);
		nftnl_set_elem_add(s, e);
	}
	nftnl_batch_begin(mnl_nlmsg_batch_current(batch), seq++);
	mnl_nlmsg_batch_next(batch);
	nlh = nftnl_nlmsg_build_hdr(mnl_nlmsg_batch_current(batch),
				    del ? NFT_MSG_DELSETELEM : NFT_MSG_NEWSETELEM, NFPROTO_INET,
				    del ? NLM_F_ACK : NLM_F_CREATE | NLM_F_ACK, seq++);
	nftnl_set_elems_nlmsg_build_payload(nlh, s);
	mnl_nlmsg_batch_next(batch);
	nftnl_batch_end(mnl_nlmsg_batch_current(batch), seq++);
	mnl_nlmsg_batch_next(batch);
	nftnl_set_free(s);

	do
		sent = sendto(sock, mnl_nlmsg_batch_head(batch), mnl_nlmsg_batch_size(batch), 0,
			      (struct sockaddr *)&snl, sizeof snl);
	while (sent < 0 && errno == EINTR);
	mnl_nlmsg_batch_stop(batch);
	if (sent < 0)
		return sbx_set_errno(error, errno, "nftables: %s %u addresses in set %s", verb, n,
				     set);
	ok = drain_replies(sock, 1, NULL, error);
	if (!ok)
		sbx_prefix_error(error, "%s %u addresses in set %s", verb, n, set);
	return ok;
}

gboolean
nft_add_runtime_addrs(int sock, const char *set, int family, const void *addrs, guint n,
		      guint timeout_secs, GError **error)
{
	return runtime_elems(sock, set, family, addrs, n, timeout_secs, FALSE, error);
}

gboolean
nft_add_conntrack_rule(int sock, GError **error)
{
	g_autoptr(NftBatch) b = nft_build_conntrack_batch((guint32)g_random_int());

	return send_batch(sock, b, error) && drain_replies(sock, nft_batch_acks(b), b, error);
}

gboolean
nft_del_runtime_addrs(int sock, const char *set, int family, const void *addrs, guint n,
		      GError **error)
{
	return runtime_elems(sock, set, family, addrs, n, 0, TRUE, error);
}
