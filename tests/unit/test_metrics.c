/*
 * Unit tests for metrics: the Prometheus text of a made-up snapshot. Every
 * sample belongs to a family announced by HELP and TYPE, counters end in
 * _total, the histogram is cumulative in seconds with _sum and _count,
 * label values are escaped, and optional families appear only when known.
 * (promtool itself checks the real /metrics in tests/integration/metrics.sh.)
 */
#include "admin/metrics.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct counters c;

static char *format(const struct metrics_input *in)
{
	size_t len = 0;
	char *text = metrics_format(in, &len);

	cr_assert_not_null(text);
	cr_assert_eq(strlen(text), len);
	return text;
}

static void has_line(const char *text, const char *line)
{
	size_t n = strlen(line);
	const char *p = text;

	while ((p = strstr(p, line))) {
		if ((p == text || p[-1] == '\n') && p[n] == '\n')
			return;
		p++;
	}
	cr_assert_fail("no line '%s' in:\n%s", line, text);
}

Test(metrics, families_and_values)
{
	unsigned depth[2] = {3, 0};
	struct metrics_process proc = {.rss_bytes = 4096,
				       .vsize_bytes = 8192,
				       .start_time_s = 1.5e9,
				       .cpu_s = 2.25,
				       .open_fds = 7,
				       .max_fds = 1024};
	struct metrics_input in = {.ctr = &c,
				   .version = "1.2\"3",
				   .nworkers = 2,
				   .queue_depth = depth,
				   .tcp_connections = 5,
				   .db_up = 1,
				   .bindings_active = 42,
				   .proc = &proc};
	char *text;

	memset(&c, 0, sizeof(c));
	c.rx_requests[SIP_METHOD_INVITE] = 10;
	c.rx_requests[SIP_METHOD_OTHER] = 1;
	c.rx_responses[2] = 4;
	c.tx_codes[200] = 6;
	c.tx_codes[486] = 2;
	c.tx_responses[2] = 6;
	c.v[CTR_DIALOGS_CREATED] = 5;
	c.v[CTR_DIALOGS_ENDED] = 3;
	c.v[CTR_REGISTRATIONS] = 9;
	c.v[CTR_DROPPED] = 1;
	c.g_transactions = 12;
	c.db_latency[0] = 2;  /* <= 0.5 ms */
	c.db_latency[3] = 1;  /* <= 5 ms */
	c.db_latency[10] = 1; /* over 1 s */
	c.db_latency_sum_us = 1500000;
	c.db_latency_count = 4;
	text = format(&in);

	has_line(text, "# TYPE junction_build_info gauge");
	has_line(text, "junction_build_info{version=\"1.2\\\"3\"} 1");
	has_line(text, "# TYPE junction_sip_requests_received_total counter");
	has_line(text, "junction_sip_requests_received_total{method=\"INVITE\"} 10");
	has_line(text, "junction_sip_requests_received_total{method=\"OTHER\"} 1");
	has_line(text, "junction_sip_requests_received_total{method=\"BYE\"} 0");
	has_line(text, "junction_sip_responses_received_total{class=\"2xx\"} 4");
	has_line(text, "junction_sip_responses_sent_total{class=\"2xx\",code=\"200\"} 6");
	has_line(text, "junction_sip_responses_sent_total{class=\"4xx\",code=\"486\"} 2");
	cr_assert_null(strstr(text, "code=\"404\""), "codes never sent are left out");
	has_line(text, "junction_dialogs_active 2");
	has_line(text, "junction_transactions_active 12");
	has_line(text, "junction_registrations_total 9");
	has_line(text, "junction_sip_messages_dropped_total 1");
	has_line(text, "junction_bindings_active 42");
	has_line(text, "junction_queue_depth{worker=\"0\"} 3");
	has_line(text, "junction_queue_depth{worker=\"1\"} 0");
	has_line(text, "junction_tcp_connections 5");
	has_line(text, "junction_db_up 1");
	has_line(text, "# TYPE junction_db_latency_seconds histogram");
	has_line(text, "junction_db_latency_seconds_bucket{le=\"0.0005\"} 2");
	has_line(text, "junction_db_latency_seconds_bucket{le=\"0.001\"} 2");
	has_line(text, "junction_db_latency_seconds_bucket{le=\"0.005\"} 3");
	has_line(text, "junction_db_latency_seconds_bucket{le=\"1\"} 3");
	has_line(text, "junction_db_latency_seconds_bucket{le=\"+Inf\"} 4");
	has_line(text, "junction_db_latency_seconds_sum 1.500000");
	has_line(text, "junction_db_latency_seconds_count 4");
	has_line(text, "process_resident_memory_bytes 4096");
	has_line(text, "process_virtual_memory_bytes 8192");
	has_line(text, "process_start_time_seconds 1500000000.00");
	has_line(text, "process_cpu_seconds_total 2.25");
	has_line(text, "process_open_fds 7");
	free(text);
}

/* Every sample's family was announced (HELP and TYPE) before it, and
 * counters end in _total. */
Test(metrics, every_sample_announced)
{
	unsigned depth[1] = {0};
	struct metrics_input in = {.ctr = &c,
				   .version = "x",
				   .nworkers = 1,
				   .queue_depth = depth,
				   .db_up = 0,
				   .bindings_active = 0};
	char *text, *save = NULL, *line;
	char family[128] = "", type[16] = "";
	bool help = false;

	memset(&c, 0, sizeof(c));
	c.tx_codes[100] = 1;
	text = format(&in);
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char name[128];

		if (strncmp(line, "# HELP ", 7) == 0) {
			sscanf(line + 7, "%127s", family);
			help = true;
			continue;
		}
		if (strncmp(line, "# TYPE ", 7) == 0) {
			char n[128];
			sscanf(line + 7, "%127s %15s", n, type);
			cr_assert_str_eq(n, family, "TYPE after its HELP");
			cr_assert(help);
			if (strcmp(type, "counter") == 0)
				cr_assert(strlen(n) > 6 && strcmp(n + strlen(n) - 6, "_total") == 0,
					  "counter %s ends in _total", n);
			continue;
		}
		sscanf(line, "%127[^{ ]", name);
		if (strcmp(type, "histogram") == 0)
			cr_assert(strncmp(name, family, strlen(family)) == 0, "%s of %s", name,
				  family);
		else
			cr_assert_str_eq(name, family, "sample %s announced", name);
	}
	free(text);
}

Test(metrics, unknown_database_left_out)
{
	struct metrics_input in = {.ctr = &c, .version = "x", .db_up = -1, .bindings_active = -1};
	char *text;

	memset(&c, 0, sizeof(c));
	text = format(&in);
	cr_assert_null(strstr(text, "junction_db_up"));
	cr_assert_null(strstr(text, "junction_bindings_active"));
	cr_assert_null(strstr(text, "process_"), "no process figures given");
	has_line(text, "junction_db_latency_seconds_count 0");
	free(text);
}

Test(metrics, process_read)
{
	struct metrics_process p;

	cr_assert_eq(metrics_process_read(&p), 0);
	cr_assert_gt(p.rss_bytes, 0);
	cr_assert_geq(p.vsize_bytes, p.rss_bytes);
	cr_assert_gt(p.start_time_s, 1e9);
	cr_assert_gt(p.open_fds, 2);
	cr_assert_gt(p.max_fds, p.open_fds);
}
