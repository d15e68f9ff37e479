/*
 * fs_review_stub.c - TEMPORARY: the review verbs' internal entry points
 * that fs_report.c calls, until branch h14-review (gate/fs_review.c) is
 * merged; no lead exists before then.  Removed at that merge.
 */
#include "fs_gate_int.h"

int gate_lead_get(fs_gate *g, fs_gallery_batch *b, const char *id,
                  fs_lead *l, fs_detail *d)
{
    (void)g; (void)b; (void)l;
    return fs_fail(d, FS_NOTFOUND, "no lead '%s'", id);
}

int gate_leads_of(fs_gate *g, fs_gallery_batch *b, const char *request,
                  unsigned *proposed, unsigned *approved, fs_detail *d)
{
    (void)g; (void)b; (void)request; (void)d;
    *proposed = *approved = 0;
    return FS_OK;
}

int fs_lead_complete(const fs_lead *l)
{
    return l->state == FS_LEAD_APPROVED;
}

const char *fs_lead_state_name(int state)
{
    static const char *const n[] = { "proposed", "approved", "rejected" };
    return state >= 0 && state <= 2 ? n[state] : "?";
}

const char *fs_signoff_kind_name(int kind)
{
    static const char *const n[] = { "proposed", "corroborated", "approved",
                                     "rejected" };
    return kind >= 0 && kind <= 3 ? n[kind] : "?";
}
