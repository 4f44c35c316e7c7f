/* SPDX-License-Identifier: MIT
 *
 * test-learn.c — the learned allowlist (net/learn.c): entry forms, sorting,
 * deduplication, counts, the header, and that every line parses back with
 * the allowlist grammar; the atomic write on a real temporary directory.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "net/allowlist.h"
#include "net/learn.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static void
connect4(Learner *l, const char *addr, guint8 proto, guint16 sport, guint16 dport,
	 const char *name)
{
	struct in_addr a;

	assert_int_equal(inet_pton(AF_INET, addr, &a), 1);
	learn_connection(l, AF_INET, &a, proto, sport, dport, name);
}

/* The non-comment lines of TEXT. */
static GPtrArray *
entries_of(const char *text)
{
	GPtrArray *out = g_ptr_array_new_with_free_func(g_free);
	g_auto(GStrv) lines = g_strsplit(text, "\n", -1);

	for (char **p = lines; *p; p++) {
		g_autofree char *e = g_strndup(*p, strcspn(*p, "#"));

		g_strstrip(e);
		if (*e)
			g_ptr_array_add(out, g_steal_pointer(&e));
	}
	return out;
}

static void
test_entries_sorted_deduplicated_and_valid(void **state)
{
	g_autoptr(Learner) l = learn_new(FALSE);
	g_autoptr(GArray) parsed = allowlist_new();
	g_autoptr(GPtrArray) e = NULL;
	g_autofree char *text = NULL;
	struct in6_addr a6;

	(void)state;
	learn_lookup(l, "Registry.Example.");
	learn_lookup(l, "unused.example");
	connect4(l, "192.0.2.7", IPPROTO_TCP, 0, 443, "registry.example");
	connect4(l, "192.0.2.7", IPPROTO_TCP, 0, 443, "registry.example");
	connect4(l, "192.0.2.9", IPPROTO_TCP, 0, 80, NULL);
	connect4(l, "192.0.2.53", IPPROTO_UDP, 5000, 53, NULL);
	connect4(l, "192.0.2.53", IPPROTO_UDP, 5000, 53, NULL);   /* same exchange */
	connect4(l, "192.0.2.53", IPPROTO_UDP, 5001, 53, NULL);   /* a new one */
	connect4(l, "192.0.2.8", IPPROTO_UDP, 7, 123, "ntp.example");
	connect4(l, "192.0.2.8", IPPROTO_ICMP, 0, 0, NULL);       /* not learned */
	connect4(l, "192.0.2.10", IPPROTO_TCP, 0, 22, "bad name!");  /* → address */
	assert_int_equal(inet_pton(AF_INET6, "2001:db8::1", &a6), 1);
	learn_connection(l, AF_INET6, &a6, IPPROTO_TCP, 0, 443, NULL);
	text = learn_render(l, "npm", 0);
	e = entries_of(text);
	assert_int_equal(e->len, 6);
	assert_string_equal(g_ptr_array_index(e, 0), "192.0.2.10:22/tcp");
	assert_string_equal(g_ptr_array_index(e, 1), "192.0.2.53:53/udp");
	assert_string_equal(g_ptr_array_index(e, 2), "192.0.2.9:80/tcp");
	assert_string_equal(g_ptr_array_index(e, 3), "[2001:db8::1]:443/tcp");
	assert_string_equal(g_ptr_array_index(e, 4), "ntp.example:123/udp");
	assert_string_equal(g_ptr_array_index(e, 5), "registry.example:443");
	assert_non_null(strstr(text, "192.0.2.53:53/udp                       # 2 connections, first "));
	assert_non_null(strstr(text, "registry.example:443                    # 2 connections, first "));
	assert_non_null(strstr(text, "# from a run of: npm\n"));
	assert_non_null(strstr(text, "Every destination the command connected to"));
	/* looked up only: a comment, never an entry */
	assert_non_null(strstr(text, "#   unused.example\n"));
	assert_null(strstr(text, "#   registry.example\n"));
	/* the whole text parses back as an allowlist */
	assert_true(allowlist_parse_text(text, strlen(text), "learned", parsed, NULL));
	assert_int_equal(parsed->len, 6);
}

static void
test_enforced_list_refused_names_and_blocked(void **state)
{
	g_autoptr(Learner) l = learn_new(TRUE);
	g_autoptr(GArray) parsed = allowlist_new();
	g_autoptr(GPtrArray) e = NULL;
	g_autofree char *text = NULL;

	(void)state;
	learn_lookup(l, "allowed.example");      /* answered: allowed, not learned */
	learn_refused_name(l, "denied.example");
	learn_refused_name(l, "denied.example");
	learn_refused_name(l, "not a name");
	connect4(l, "192.0.2.7", IPPROTO_TCP, 0, 8443, "allowed.example");
	text = learn_render(l, NULL, 0);
	e = entries_of(text);
	assert_int_equal(e->len, 2);
	assert_string_equal(g_ptr_array_index(e, 0), "allowed.example:8443");
	assert_string_equal(g_ptr_array_index(e, 1), "denied.example");
	assert_non_null(strstr(text, "# blocked 1 time, first "));
	assert_non_null(strstr(text, "# looked up 2 times, first "));
	assert_non_null(strstr(text, "Only what the allowlist given with it"));
	assert_null(strstr(text, "Looked up, never connected"));
	assert_null(strstr(text, "from a run of"));
	assert_true(allowlist_parse_text(text, strlen(text), "learned", parsed, NULL));
}

static void
test_bounded(void **state)
{
	g_autoptr(Learner) l = learn_new(FALSE);
	g_autofree char *text = NULL;

	(void)state;
	for (guint i = 0; i < LEARN_MAX_ENTRIES + 10; i++)
		connect4(l, "192.0.2.1", IPPROTO_TCP, 0, (guint16)(1 + i), NULL);
	text = learn_render(l, NULL, 0);
	assert_non_null(strstr(text, "# INCOMPLETE: 10 more not recorded"));
}

static void
test_write_file_atomically(void **state)
{
	g_autofree char *dir = g_dir_make_tmp("test-learn-XXXXXX", NULL);
	g_autofree char *path = NULL, *text = NULL, *cmd = NULL;
	g_autoptr(Learner) l = learn_new(FALSE);
	g_autoptr(GError) error = NULL;
	g_autoptr(GDir) d = NULL;
	const char *name;
	guint n = 0;

	(void)state;
	assert_non_null(dir);
	path = g_build_filename(dir, "out.list", NULL);
	/* an existing link at PATH is replaced, not followed */
	assert_int_equal(symlink("/etc/passwd", path), 0);
	connect4(l, "192.0.2.7", IPPROTO_TCP, 0, 443, NULL);
	assert_true(learn_write_file(l, path, "# mine\n10.0.0.1", "x", &error));
	assert_true(g_file_get_contents(path, &text, NULL, NULL));
	assert_true(g_str_has_prefix(text, "# mine\n10.0.0.1\n\n# Allowlist written by"));
	assert_non_null(strstr(text, "\n192.0.2.7:443/tcp "));
	assert_false(g_file_test(path, G_FILE_TEST_IS_SYMLINK));
	d = g_dir_open(dir, 0, NULL);
	while ((name = g_dir_read_name(d)))
		n++;
	assert_int_equal(n, 1);           /* no temporary file left behind */
	/* a missing directory is an error naming the option */
	g_clear_pointer(&path, g_free);
	path = g_build_filename(dir, "nope", "out.list", NULL);
	assert_false(learn_write_file(l, path, NULL, NULL, &error));
	assert_non_null(error);
	assert_non_null(strstr(error->message, "--learn"));
	cmd = g_strdup_printf("rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_entries_sorted_deduplicated_and_valid),
		cmocka_unit_test(test_enforced_list_refused_names_and_blocked),
		cmocka_unit_test(test_bounded),
		cmocka_unit_test(test_write_file_atomically),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
