//! The runbook's `notify:` list as written: webhooks told of the run's events, each checked
//! offline (an https URL, or http on loopback; a secret named, never written; known events).

use schemars::JsonSchema;

use crate::diag::{Diagnostic, did_you_mean};
use crate::runbook::decode::{Cx, Decode, MapReader, Spanned};
use crate::runbook::model::{Notify, NotifyOn};
use crate::runbook::values::EnvVarName;
use crate::runbook::yaml::{Node, Value};

/// A webhook told of the run's events: a signed POST of a small JSON document to `url`.
#[derive(Debug, JsonSchema)]
#[schemars(rename = "Notify", deny_unknown_fields)]
pub struct RawNotify {
    /// Where to POST: `https://…`, or `http://` on loopback only.
    pub url: Spanned<String>,
    /// The environment variable holding the HMAC-SHA256 key the body is signed with
    /// (`X-Stopbook-Signature-256`).
    pub secret_env: Spanned<EnvVarName>,
    /// The events told (default: all of them).
    pub on: Option<Vec<Spanned<NotifyOn>>>,
}

impl Decode for RawNotify {
    fn decode(node: &Node, cx: &mut Cx) -> Option<Self> {
        let mut map = MapReader::open(node, "a `notify` webhook", cx)?;
        let url: Option<Spanned<String>> = map.required("url", cx);
        let secret_env = map.required("secret_env", cx);
        let on: Option<Vec<Spanned<NotifyOn>>> = map.optional("on", cx);
        map.finish(cx);
        let url = url?;
        check_url(&url, cx)?;
        if let Some(on) = &on {
            no_twice(on, cx)?;
        }
        Some(RawNotify {
            url,
            secret_env: secret_env?,
            on,
        })
    }
}

impl RawNotify {
    /// The webhook as the run uses it.
    pub fn resolve(&self) -> Option<Notify> {
        let on = match &self.on {
            Some(on) => on.iter().map(|o| o.value).collect(),
            None => NotifyOn::ALL.to_vec(),
        };
        Some(Notify {
            url: url::Url::parse(&self.url.value).ok()?,
            secret_env: self.secret_env.value.clone(),
            on,
        })
    }
}

/// An https URL, or http to a loopback address: a notification never crosses a network in
/// clear. No credentials in it: the signature's secret is `secret_env`'s.
fn check_url(url: &Spanned<String>, cx: &mut Cx) -> Option<()> {
    let parsed = match url::Url::parse(&url.value) {
        Ok(parsed) => parsed,
        Err(e) => return cx.error(url.span, format!("`url` is not a URL: {e}")),
    };
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return cx.error(
            url.span,
            "`url` carries credentials: a webhook's secret goes in `secret_env`",
        );
    }
    let loopback = match parsed.host() {
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        None => false,
    };
    match parsed.scheme() {
        "https" if parsed.host().is_some() => Some(()),
        "http" if loopback => Some(()),
        "http" => cx.error(
            url.span,
            "`url` is http to a host that is not loopback: a webhook gets https (http only on 127.0.0.1, ::1 or localhost)",
        ),
        other => cx.error(
            url.span,
            format!("`url` has the scheme `{other}`: expected https (or http on loopback)"),
        ),
    }
}

/// Each event named once.
fn no_twice(on: &[Spanned<NotifyOn>], cx: &mut Cx) -> Option<()> {
    for (i, event) in on.iter().enumerate() {
        if on[..i].iter().any(|e| e.value == event.value) {
            return cx.error(
                event.span,
                format!("`{}` is listed twice in `on`", event.value.as_str()),
            );
        }
    }
    Some(())
}

impl Decode for NotifyOn {
    fn decode(node: &Node, cx: &mut Cx) -> Option<Self> {
        let names: Vec<&str> = NotifyOn::ALL.iter().map(|e| e.as_str()).collect();
        let Value::Str(s) = &node.value else {
            return cx.expected(node, &format!("one of {}", names.join(", ")));
        };
        if let Some(known) = NotifyOn::ALL.iter().find(|e| e.as_str() == s) {
            return Some(*known);
        }
        let mut d = Diagnostic::at(cx.place(node.span), format!("unknown event `{s}` in `on`"))
            .hint(format!("expected one of: {}", names.join(", ")));
        if let Some(guess) = did_you_mean(s, &names) {
            d = d.label(format!("did you mean `{guess}`?"));
        }
        cx.report(d);
        None
    }
}
