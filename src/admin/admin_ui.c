/*
 * admin_ui: the web console at /ui/ on the admin port: three static files
 * (admin/ui/index.html, app.js, style.css) compiled into the binary by
 * admin/embed-ui.sh, so the console is the one the daemon was built with
 * and needs no file on disk, no build step and no network beyond the node.
 *
 *   GET /ui    -> 301 /ui/ (the files name each other relatively)
 *   GET /ui/   index.html
 *   GET /ui/F  the file F; any other name 404
 *
 * These routes are open (admin.c's routes[]): the files hold no data. The
 * page asks for the API token and reads everything it shows from /v1 with
 * it, from the browser, as any other client of the API would; what the
 * token may do is decided there, not here.
 *
 * The files are text (embed-ui.sh takes no other kind) and end in a NUL,
 * so they go out as admin.c's static bodies. A query string is ignored.
 *
 * Every file carries a strict Content-Security-Policy (scripts, styles
 * and requests to this origin only, no inline script or style, no
 * framing): a value that made its way into the page as markup could run
 * nothing. The console puts every value in with textContent anyway.
 */
#include "admin/admin_internal.h"

#include <stdio.h>
#include <string.h>

static const char *const ui_headers[] = {
	"Content-Security-Policy",
	"default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
	"connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
	"X-Content-Type-Options",
	"nosniff",
	"Referrer-Policy",
	"no-referrer",
	"X-Frame-Options",
	"DENY",
	NULL,
};

static const struct admin_ui_file *ui_file(const char *name)
{
	for (unsigned i = 0; i < admin_ui_files_n; i++) {
		if (strcmp(admin_ui_files[i].name, name) == 0)
			return &admin_ui_files[i];
	}
	return NULL;
}

static void redirect(struct admin_req *r, unsigned status, const char *to)
{
	r->status = status;
	r->out_static = "";
	r->ctype = NULL;
	snprintf(r->location, sizeof(r->location), "%s", to);
}

void admin_ui(struct admin_req *r)
{
	const struct admin_ui_file *f;

	if (strcmp(r->url, "/ui") == 0) {
		redirect(r, 301, "/ui/");
		return;
	}
	f = ui_file(r->rest[0] ? r->rest : "index.html");
	if (!f) {
		admin_error(r, 404, ADMIN_E_NOT_FOUND, "no file %.200s in the console", r->url);
		return;
	}
	r->status = 200;
	r->out_static = (const char *)f->data;
	r->ctype = f->ctype;
	r->headers = ui_headers;
}
