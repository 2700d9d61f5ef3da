/*
 * Unit tests for msg_edit: one-copy application of inserts, deletes and
 * replacements, their ordering, and refusal of overlaps and overflow.
 */
#include "sip/msg_edit.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

static struct msg_edits ed;
static char out[256];

static void setup(void)
{
	msg_edits_init(&ed);
	memset(out, 0, sizeof(out));
}

TestSuite(msg_edit, .init = setup);

static const char *apply(const char *in)
{
	ssize_t n = msg_edit_apply(&ed, in, strlen(in), out, sizeof(out) - 1);
	cr_assert(n >= 0, "apply failed: %zd", n);
	out[n] = '\0';
	return out;
}

Test(msg_edit, no_edits_copies)
{
	cr_assert_str_eq(apply("abcdef"), "abcdef");
}

Test(msg_edit, insert_delete_replace)
{
	cr_assert_eq(msg_edit_insert(&ed, 0, "<", 1), 0);
	cr_assert_eq(msg_edit_delete(&ed, 2, 2), 0);        /* "cd" */
	cr_assert_eq(msg_edit_add(&ed, 5, 1, "XYZ", 3), 0); /* "f" -> "XYZ" */
	cr_assert_eq(msg_edit_insert(&ed, 6, ">", 1), 0);   /* at the very end */
	cr_assert_str_eq(apply("abcdef"), "<abeXYZ>");
	cr_assert_eq(msg_edits_delta(&ed), 1 - 2 + 2 + 1);
}

Test(msg_edit, recorded_out_of_order_applies_in_offset_order)
{
	cr_assert_eq(msg_edit_insert(&ed, 4, "2", 1), 0);
	cr_assert_eq(msg_edit_insert(&ed, 1, "1", 1), 0);
	cr_assert_str_eq(apply("abcdef"), "a1bcd2ef");
}

Test(msg_edit, same_offset_keeps_recording_order)
{
	/* Record-Route then Via, both at the top: the order they were added. */
	cr_assert_eq(msg_edit_insert(&ed, 0, "RR\n", 3), 0);
	cr_assert_eq(msg_edit_insert(&ed, 0, "V\n", 2), 0);
	cr_assert_str_eq(apply("X\n"), "RR\nV\nX\n");
}

Test(msg_edit, insert_before_delete_at_same_offset)
{
	cr_assert_eq(msg_edit_insert(&ed, 1, "+", 1), 0);
	cr_assert_eq(msg_edit_delete(&ed, 1, 2), 0);
	cr_assert_str_eq(apply("abcd"), "a+d");
}

Test(msg_edit, insert_recorded_after_delete_at_same_offset_still_first)
{
	/* "delete our Route (the first header)" then "Record-Route on top" */
	cr_assert_eq(msg_edit_delete(&ed, 0, 2), 0);
	cr_assert_eq(msg_edit_insert(&ed, 0, "RR", 2), 0);
	cr_assert_str_eq(apply("abcd"), "RRcd");
}

Test(msg_edit, insert_at_end_of_a_deletion)
{
	cr_assert_eq(msg_edit_delete(&ed, 1, 2), 0);
	cr_assert_eq(msg_edit_insert(&ed, 3, "+", 1), 0);
	cr_assert_str_eq(apply("abcd"), "a+d");
}

Test(msg_edit, insertf_formats)
{
	cr_assert_eq(msg_edit_insertf(&ed, 3, "=%u", 5060u), 0);
	cr_assert_str_eq(apply("abc;x"), "abc=5060;x");
}

Test(msg_edit, overlapping_deletions_refused)
{
	cr_assert_eq(msg_edit_delete(&ed, 1, 3), 0);
	cr_assert_eq(msg_edit_delete(&ed, 2, 1), 0);
	cr_assert_eq(msg_edit_apply(&ed, "abcdef", 6, out, sizeof(out)), -EINVAL);
}

Test(msg_edit, insert_inside_deletion_refused)
{
	cr_assert_eq(msg_edit_delete(&ed, 1, 3), 0);
	cr_assert_eq(msg_edit_insert(&ed, 2, "x", 1), 0);
	cr_assert_eq(msg_edit_apply(&ed, "abcdef", 6, out, sizeof(out)), -EINVAL);
}

Test(msg_edit, edit_past_end_refused)
{
	cr_assert_eq(msg_edit_delete(&ed, 5, 2), 0);
	cr_assert_eq(msg_edit_apply(&ed, "abcdef", 6, out, sizeof(out)), -EINVAL);
}

Test(msg_edit, output_too_small)
{
	char small[6];

	cr_assert_eq(msg_edit_insert(&ed, 3, "XYZ", 3), 0);
	cr_assert_eq(msg_edit_apply(&ed, "abcdef", 6, small, sizeof(small)), -ENOSPC);
	/* exactly enough is fine */
	msg_edits_init(&ed);
	cr_assert_eq(msg_edit_apply(&ed, "abcdef", 6, small, sizeof(small)), 6);
}

Test(msg_edit, list_and_text_limits)
{
	char big[MSG_EDIT_TEXT_MAX + 1];

	for (unsigned i = 0; i < MSG_EDIT_MAX; i++)
		cr_assert_eq(msg_edit_insert(&ed, 0, "x", 1), 0);
	cr_assert_eq(msg_edit_insert(&ed, 0, "x", 1), -ENOSPC);
	cr_assert_eq(msg_edit_insertf(&ed, 0, "%d", 1), -ENOSPC);

	msg_edits_init(&ed);
	memset(big, 'a', sizeof(big));
	cr_assert_eq(msg_edit_insert(&ed, 0, big, sizeof(big)), -ENOSPC);
	cr_assert_eq(msg_edit_insert(&ed, 0, big, MSG_EDIT_TEXT_MAX), 0);
	cr_assert_eq(msg_edit_insertf(&ed, 0, "x"), -ENOSPC);
}

Test(msg_edit, insert_parts_joins_and_refuses_what_does_not_fit)
{
	struct sip_str parts[] = {SIP_STR("Via: "), SIP_STR_NULL, SIP_STR("x;branch="),
				  SIP_STR("z9\r\n")};
	static char big[MSG_EDIT_TEXT_MAX + 1];
	struct sip_str huge = {.p = big, .len = sizeof(big)};

	cr_assert_eq(msg_edit_insert_parts(&ed, 1, parts, 4), 0);
	cr_assert_str_eq(apply("ab"), "aVia: x;branch=z9\r\nb");
	cr_assert_eq(msg_edit_insert_parts(&ed, 0, &huge, 1), -ENOSPC);
	cr_assert_eq(ed.n, 1, "nothing recorded for the refused insert");
}
