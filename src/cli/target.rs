//! From a resolved `target` to what a client needs: the base URL (with `--endpoint` applied and
//! checked), the credentials read from where the target names them, and the language. Shared by
//! `run` and `conform`; every failure here comes before anything is sent.

use super::Refusal;
use crate::api::client::{Credentials, IamLogin};
use crate::drs::{Endpoint, Language};
use crate::runbook::model::{Auth, Host, RemoteTarget};
use crate::secret::Secret;

pub struct Remote {
    pub base: String,
    pub project_id: String,
    pub credentials: Credentials,
    pub language: Option<Language>,
}

pub fn remote(remote: &RemoteTarget, endpoint_override: Option<&str>) -> Result<Remote, Refusal> {
    let base = match (endpoint_override, &remote.host) {
        (Some(url), _) => url
            .parse::<Endpoint>()
            .map_err(|e| format!("error: --endpoint: {e}"))?
            .to_string(),
        (None, Host::Endpoint(e)) => e.to_string(),
        (None, Host::Region(region)) => region.drs_endpoint().to_string(),
    };
    let env = |name: &str| {
        std::env::var(name).map_err(|_| format!("error: the environment variable `{name}` is not set (it should hold a credential); nothing was sent"))
    };
    let credentials = match &remote.auth {
        Auth::TokenEnv(name) => Credentials::Token(Secret::new(env(name.as_str())?)),
        Auth::TokenFile { written, path } => Credentials::Token(read_token_file(written, path)?),
        Auth::AkSk {
            ak_env,
            sk_env,
            security_token_env,
        } => Credentials::AkSk {
            ak: env(ak_env.as_str())?,
            sk: Secret::new(env(sk_env.as_str())?),
            security_token: security_token_env
                .as_ref()
                .map(|n| env(n.as_str()).map(Secret::new))
                .transpose()?,
        },
        Auth::IamPassword {
            endpoint,
            user_env,
            password_env,
            domain,
        } => Credentials::Iam(IamLogin {
            endpoint: endpoint.to_string(),
            user: env(user_env.as_str())?,
            password: Secret::new(env(password_env.as_str())?),
            domain: domain.clone(),
        }),
    };
    Ok(Remote {
        base,
        project_id: remote.project_id.to_string(),
        credentials,
        language: remote.language,
    })
}

/// A token from `path`, read within a bound and checked to be one header value, so a wrong
/// file (`/dev/zero`, an environment dump) is refused before anything is sent.
fn read_token_file(written: &str, path: &std::path::Path) -> Result<Secret, Refusal> {
    use crate::input::{self, InputError};
    let refuse = |why: String| format!("error: token_file `{written}`: {why}; nothing was sent");
    let text = input::read_text(path, input::TOKEN_FILE).map_err(|e| match e {
        InputError::NotUtf8 { .. } => refuse("it is not text".to_owned()),
        InputError::Io(_) => refuse(format!("cannot read it: {e}")),
        InputError::TooLarge { .. } => refuse(format!("{e}, far more than a token")),
    })?;
    let token = text.trim();
    if token.is_empty() || token.bytes().any(|b| !(0x21..=0x7e).contains(&b)) {
        return Err(refuse(
            "it does not hold one token (a single line of visible characters)".to_owned(),
        )
        .into());
    }
    Ok(Secret::new(token))
}
