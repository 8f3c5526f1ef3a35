package verify

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/tokenward/tokenward/finding"
	"github.com/tokenward/tokenward/rules"
	"github.com/tokenward/tokenward/verify/check"
)

// Revocation actions (Result.Action and AuditEntry.Action).
const (
	ActionDryRun         = "dry_run"         // live; the requests that would revoke it are in Requests
	ActionRevoke         = "revoke"          // revocation requests were sent
	ActionSkipped        = "skipped"         // not live now (invalid, unknown): nothing sent
	ActionAlreadyRevoked = "already_revoked" // the audit log records it revoked and it verifies invalid now: nothing sent
	ActionUnsupported    = "unsupported"     // the rule has no revoke spec, or no endpoint
)

// RevokeOptions control one revocation.
type RevokeOptions struct {
	// DryRun verifies but sends no revocation; Result.Requests shows, redacted,
	// what would be sent.
	DryRun bool
	// Audit, when set, is consulted (a fingerprint it records as revoked is
	// reported already_revoked when it verifies invalid now; one that verifies
	// live is revoked all the same) and, unless DryRun, receives one record per
	// call.
	Audit *AuditLog
}

// Result is the outcome of one revocation.
type Result struct {
	Fingerprint string `json:"fingerprint"`
	RuleID      string `json:"rule_id"`
	Redacted    string `json:"redacted"`
	Action      string `json:"action"`
	// Status is the finding's verification status afterwards: revoked,
	// revoke_unconfirmed, or (when nothing was sent) live, invalid, unknown,
	// not_checked.
	Status     string `json:"status"`
	HTTPStatus int    `json:"http_status,omitempty"` // of the revocation request
	Detail     string `json:"detail,omitempty"`
	Host       string `json:"endpoint_host,omitempty"`
	// Requests are the redacted revocation requests a dry run would send.
	Requests []string `json:"requests,omitempty"`
	// Dead reports that the secret is confirmed unusable: revoked now or
	// before, or already invalid.
	Dead bool `json:"dead"`
	// Verification is the last live check.
	Verification *finding.Verification `json:"verification,omitempty"`
}

// Revoke revokes f's secret if, and only if, it verifies live now; it then
// re-verifies and reports revoked only when the secret is confirmed dead,
// revoke_unconfirmed otherwise. The audit log is believed only after the
// secret is verified: recorded as revoked and invalid now is already_revoked;
// recorded as revoked but live now is revoked again (the record was wrong,
// forged, or the token was re-issued). The error is for what stops the run: no secret, an
// unknown rule, a failed audit write, a cancelled context.
func (v *Verifier) Revoke(ctx context.Context, f finding.Finding, o RevokeOptions) (Result, error) {
	if f.Secret == "" {
		return Result{}, fmt.Errorf("finding %s: the secret is not available (use a report written with --show-secrets, or --fingerprint with the secret on stdin)", f.Fingerprint)
	}
	if f.Fingerprint == "" {
		f.Fingerprint = finding.Fingerprint(f.RuleID, f.Secret)
	}
	res := Result{Fingerprint: f.Fingerprint, RuleID: f.RuleID, Redacted: finding.Redact(f.Secret)}
	vs, rs := v.verify[f.RuleID], v.revoke[f.RuleID]
	if rs != nil {
		res.Host = rs.host()
	}
	record := func(r Result) (Result, error) {
		if o.Audit == nil || o.DryRun {
			return r, nil
		}
		err := o.Audit.Append(AuditEntry{
			Time: v.opts.Now().UTC().Format(time.RFC3339Nano), Fingerprint: r.Fingerprint, Rule: r.RuleID,
			EndpointHost: r.Host, Action: r.Action, Result: r.Status, HTTPStatus: r.HTTPStatus, Detail: r.Detail,
		})
		return r, err
	}

	var auditAt string
	auditSays := false
	if o.Audit != nil {
		auditAt, auditSays = o.Audit.RevokedAt(f.Fingerprint)
	}
	if vs == nil || rs == nil {
		res.Action, res.Status = ActionUnsupported, finding.StatusNotChecked
		res.Detail = "rule " + f.RuleID + " has no revoke spec"
		if vs == nil {
			res.Detail = "rule " + f.RuleID + " has no verify spec; a revocation could not be confirmed"
		}
		return record(res)
	}
	if vr, skip := v.precheck(vs, &f); skip {
		res.Action, res.Status, res.Detail, res.Verification = ActionUnsupported, vr.Status, vr.Detail, &vr
		return record(res)
	}
	if vr, skip := v.precheck(rs, &f); skip {
		res.Action, res.Status, res.Detail = ActionUnsupported, finding.StatusNotChecked, "revoke: "+vr.Detail
		return record(res)
	}

	before := v.check(ctx, vs, &f)
	res.Verification = &before
	if err := ctx.Err(); err != nil {
		return res, err
	}
	if before.Status == finding.StatusInvalid && auditSays {
		res.Action, res.Status, res.Dead = ActionAlreadyRevoked, finding.StatusRevoked, true
		res.Detail = "revoked at " + auditAt + " per the audit log, and invalid now; not revoked again"
		return record(res)
	}
	if before.Status != finding.StatusLive {
		res.Action, res.Status, res.Dead = ActionSkipped, before.Status, before.Status == finding.StatusInvalid
		res.Detail = "not live now (" + before.Status + "); nothing sent"
		if before.Detail != "" {
			res.Detail += ": " + before.Detail
		}
		return record(res)
	}

	note := ""
	if auditSays {
		note = "the audit log records it revoked at " + auditAt + ", but it verifies live now; "
		v.log.Warn("revoke: the audit log says revoked, but the secret verifies live", "rule", f.RuleID, "fingerprint", f.Fingerprint, "recorded", auditAt)
	}
	e := newEnv(&f, rs)
	if o.DryRun {
		res.Action, res.Status = ActionDryRun, finding.StatusLive
		de := e.displayEnv()
		if rs.goCheck != nil {
			res.Requests = append(res.Requests, e.sanitize(rs.goCheck.(check.Revoker).DescribeRevoke(credential(&f))))
		}
		for _, st := range rs.steps {
			req, err := st.render(de)
			if err != nil {
				res.Requests = append(res.Requests, fmt.Sprintf("step %d: %v", st.n, e.sanitize(err.Error())))
				continue
			}
			res.Requests = append(res.Requests, e.sanitize(req.String()))
		}
		res.Detail = note + "live; dry run: nothing sent (use --yes to revoke)"
		return res, nil
	}

	v.log.Info("revoke: sending", "rule", f.RuleID, "fingerprint", f.Fingerprint, "host", res.Host)
	var rr runResult
	if rs.goCheck != nil {
		rr = v.runGo(ctx, rs, &f, e)
	} else {
		rr = v.run(ctx, rs, e)
	}
	res.Action, res.HTTPStatus = ActionRevoke, rr.httpStatus
	if err := ctx.Err(); err != nil {
		res.Status, res.Detail = finding.StatusRevokeUnconfirmed, "cancelled after the revocation request"
		r, aerr := record(res)
		return r, errors.Join(err, aerr)
	}
	attempts := v.opts.ConfirmAttempts
	if rr.result == rules.ResultRejected {
		attempts = 1 // nothing suggests a change is on its way
	}
	var after finding.Verification
	for i := range attempts {
		if i > 0 {
			if err := sleep(ctx, v.opts.ConfirmDelay); err != nil {
				break
			}
		}
		after = v.check(ctx, vs, &f)
		if after.Status == finding.StatusInvalid {
			break
		}
	}
	res.Verification = &after
	reqDesc := fmt.Sprintf("revocation %s", rr.result)
	if rr.httpStatus != 0 {
		reqDesc += fmt.Sprintf(" (HTTP %d)", rr.httpStatus)
	}
	if rr.detail != "" {
		reqDesc += ": " + rr.detail
	}
	if after.Status == finding.StatusInvalid {
		res.Status, res.Dead = finding.StatusRevoked, true
		res.Detail = reqDesc + "; confirmed dead by re-verification"
	} else {
		res.Status = finding.StatusRevokeUnconfirmed
		res.Detail = fmt.Sprintf("%s; still %s after %d re-verification(s)", reqDesc, after.Status, attempts)
		if after.Detail != "" {
			res.Detail += " (" + after.Detail + ")"
		}
	}
	res.Detail = e.sanitize(note + res.Detail)
	v.log.Info("revoke: done", "rule", f.RuleID, "fingerprint", f.Fingerprint, "status", res.Status)
	return record(res)
}
