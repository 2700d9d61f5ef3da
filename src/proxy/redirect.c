/*
 * redirect: see redirect.h. Every binding goes into the 302, tel: and
 * other non-SIP contacts too: a redirect server tells the client where
 * the user may be reached, and the client chooses.
 */
#include "proxy/redirect.h"
#include "runtime/counters.h"

#include "registrar/location.h"

#include <stdio.h>

static void redirected(struct worker *w, void *arg, int err, const struct location_result *r)
{
	struct sip_job *job = arg;
	char extra[4096];
	size_t n = 0;
	struct sip_msg m;

	if (worker_reparse(w, job, &m) < 0)
		goto out;
	if (err) {
		worker_reply_db_unavailable(w, &m, &job->src);
		goto out;
	}
	if (r->n == 0) {
		worker_reply(w, &m, &job->src, location_miss_status(r, job->trusted), NULL, NULL);
		goto out;
	}
	for (unsigned i = 0; i < r->n; i++) {
		int k = snprintf(extra + n, sizeof(extra) - n, "Contact: <%.*s>;q=%d.%03d\r\n",
				 SIP_STR_FMT(r->t[i].contact), (int)(r->t[i].q / 1000),
				 (int)(r->t[i].q % 1000));
		if (k < 0 || (size_t)k >= sizeof(extra) - n)
			break;
		n += (size_t)k;
	}
	worker_reply(w, &m, &job->src, 302, NULL, extra);
out:
	job_free(job);
}

bool redirect_request(struct worker *w, struct sip_job *job, struct sip_msg *m,
		      struct route_state *rs)
{
	if (location_lookup(w, rs->target.user, rs->target.host, redirected, job) < 0) {
		worker_reply_db_unavailable(w, m, &job->src);
		return false;
	}
	return true;
}
