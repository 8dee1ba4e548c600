//! A `target` map resolved on its own (runbooks and conformance fixtures share the format):
//! the host (an endpoint or a region), the project, and exactly one way to authenticate.

use std::path::Path;

use super::decode::Cx;
use super::model::{Auth, Host, RemoteTarget};
use super::raw::{RawAuth, RawIamPassword, RawTarget};
use crate::diag::Diagnostic;
use crate::drs::Region;

/// Resolves a `target` map; problems go to `cx`.
pub(crate) fn resolve_target(t: &RawTarget, base_dir: &Path, cx: &mut Cx) -> Option<RemoteTarget> {
    let wrote = |key| t.written.has(key);
    let host = match (&t.endpoint, &t.region) {
        (Some(e), None) if !wrote("region") => Some(Host::Endpoint(e.value.clone())),
        (None, Some(r)) if !wrote("endpoint") => Some(Host::Region(r.value.clone())),
        _ if wrote("endpoint") && wrote("region") => {
            let span = t.region.as_ref().map_or(t.span, |r| r.span);
            cx.error(span, "give `endpoint` or `region`, not both")
        }
        _ if wrote("endpoint") || wrote("region") => None,
        _ => cx.error(t.span, "`target` needs an `endpoint` (or a `region`)"),
    };
    let project_id = match &t.project_id {
        Some(p) => Some(p.value.clone()),
        None if wrote("project_id") => None,
        None => cx.error(t.span, "missing required key `project_id` in `target`"),
    };
    let auth = match &t.auth {
        Some(a) => resolve_auth(a, t.region.as_ref().map(|r| &r.value), base_dir, cx),
        None if wrote("auth") => None,
        None => {
            let d = Diagnostic::at(cx.place(t.span), "missing required key `auth` in `target`")
                .hint("for example `auth: { token_env: DRS_AUTH_TOKEN }`");
            cx.report(d);
            None
        }
    };
    Some(RemoteTarget {
        host: host?,
        project_id: project_id?,
        auth: auth?,
        language: t.language.as_ref().map(|l| l.value),
    })
}

fn resolve_auth(
    a: &RawAuth,
    region: Option<&Region>,
    base_dir: &Path,
    cx: &mut Cx,
) -> Option<Auth> {
    let wrote = |key| a.written.has(key);
    // Each way counts if it is written, even with an invalid value (reported already).
    let mut ways: Vec<(&str, Option<Auth>)> = Vec::new();
    if wrote("token_env") {
        let auth = a
            .token_env
            .as_ref()
            .map(|env| Auth::TokenEnv(env.value.clone()));
        ways.push(("token_env", auth));
    }
    if wrote("token_file") {
        let auth = a.token_file.as_ref().map(|file| Auth::TokenFile {
            written: file.value.clone(),
            path: base_dir.join(&file.value),
        });
        ways.push(("token_file", auth));
    }
    if wrote("ak_env") || wrote("sk_env") {
        ways.push(("ak_env/sk_env", ak_sk(a, cx)));
    } else if let Some(st) = &a.security_token_env {
        cx.error::<()>(
            st.span,
            "`security_token_env` goes with `ak_env` and `sk_env` (temporary AK/SK credentials)",
        );
    }
    if wrote("iam_password") {
        let auth = a
            .iam_password
            .as_ref()
            .and_then(|iam| iam_password(iam, region, cx));
        ways.push(("iam_password", auth));
    }
    match ways.len() {
        0 => cx.error(
            a.span,
            "`auth` names no way to authenticate: give one of `token_env`, `token_file`, `ak_env` with `sk_env`, or `iam_password`",
        ),
        1 => ways.pop().and_then(|(_, auth)| auth),
        _ => {
            let names: Vec<&str> = ways.iter().map(|(n, _)| *n).collect();
            cx.error(
                a.span,
                format!("`auth` must name exactly one way to authenticate, found {}", names.join(", ")),
            )
        }
    }
}

/// `ak_env` with `sk_env`: both, or the one missing is named.
fn ak_sk(a: &RawAuth, cx: &mut Cx) -> Option<Auth> {
    let wrote = |key| a.written.has(key);
    match (&a.ak_env, &a.sk_env) {
        (Some(ak), Some(sk)) => Some(Auth::AkSk {
            ak_env: ak.value.clone(),
            sk_env: sk.value.clone(),
            security_token_env: a.security_token_env.as_ref().map(|s| s.value.clone()),
        }),
        _ if !wrote("sk_env") => cx.error(
            a.ak_env.as_ref().map_or(a.span, |k| k.span),
            "`ak_env` needs `sk_env` too: AK/SK signing takes both keys",
        ),
        _ if !wrote("ak_env") => cx.error(
            a.sk_env.as_ref().map_or(a.span, |k| k.span),
            "`sk_env` needs `ak_env` too: AK/SK signing takes both keys",
        ),
        _ => None,
    }
}

/// `iam_password`, its IAM host given or found from the region.
fn iam_password(iam: &RawIamPassword, region: Option<&Region>, cx: &mut Cx) -> Option<Auth> {
    let endpoint = match (&iam.endpoint, region) {
        (Some(e), _) => e.value.clone(),
        (None, Some(region)) => region.iam_endpoint(),
        (None, None) => {
            let message =
                "`iam_password` needs an `endpoint`, or a `target.region` to find the IAM host";
            return cx.error(iam.span, message);
        }
    };
    Some(Auth::IamPassword {
        endpoint,
        user_env: iam.user_env.value.clone(),
        password_env: iam.password_env.value.clone(),
        domain: iam.domain.value.clone(),
    })
}
