//! Defects that break one rule each, and the binary as users start and stop it.

use std::time::{Duration, Instant};

use serde_json::Value;
use stopbook::mock::{self, Defect, MockConfig};

use super::*;

/// Each defect, on a request chosen to show it: the faithful mock answers one way, the defective
/// mock another.
#[tokio::test]
async fn every_defect_changes_exactly_what_it_names() {
    async fn probe(mock: &Mock, defect: Defect) -> String {
        let stop = |job: &str, body: &str| mock.post_stop(job).body(body.to_owned());
        let show = |a: Result<Answer, reqwest::Error>| match a {
            Ok(a) => format!("{} {}", a.status, a.text),
            Err(e) => format!("error {e}"),
        };
        match defect {
            Defect::StopPath
            | Defect::OkStatus
            | Defect::OkErrorCode
            | Defect::OkErrorMsg
            | Defect::OkId
            | Defect::OkName
            | Defect::Example200 => show(mock.send(stop(RUNNING, "{}")).await),
            Defect::ContentType => {
                let url = mock.url(&format!("/v5/{P}/jobs/{RUNNING}/stop"));
                show(
                    mock.send(
                        mock.http
                            .post(url)
                            .header("X-Auth-Token", TOKEN)
                            .header("Content-Type", "text/plain")
                            .body("{}"),
                    )
                    .await,
                )
            }
            Defect::AuthToken => show(
                mock.send(
                    mock.http
                        .post(mock.url(&format!("/v5/{P}/jobs/{MISSING}/stop")))
                        .header("Content-Type", "application/json"),
                )
                .await,
            ),
            Defect::Language => show(
                mock.send(stop(MISSING, "{}").header("X-Language", "zh-cn"))
                    .await,
            ),
            Defect::ForceDefault => {
                mock.stop(ABNORMAL, "{}").await;
                tokio::time::sleep(Duration::from_millis(400)).await;
                mock.status_of(ABNORMAL).await
            }
            Defect::ForceBoolean => show(
                mock.send(stop(RUNNING, r#"{"is_force_stop": "true"}"#))
                    .await,
            ),
            Defect::ForceIgnored => {
                mock.stop(ABNORMAL, r#"{"is_force_stop": true}"#).await;
                tokio::time::sleep(Duration::from_millis(400)).await;
                mock.status_of(ABNORMAL).await
            }
            Defect::BadErrorCode
            | Defect::BadErrorMsg
            | Defect::StatusCodes
            | Defect::Example400 => show(mock.send(stop(MISSING, "{}")).await),
            Defect::AnswerJson => {
                let a = mock.send(stop(MISSING, "{}")).await.unwrap();
                format!("{} {:?}", a.status, a.headers.get("content-type"))
            }
            Defect::DetailStatus | Defect::DetailType => {
                let query = match defect {
                    Defect::DetailStatus => "?type=detail",
                    _ => "",
                };
                let url = mock.url(&format!("/v5/{P}/jobs/{RUNNING}{query}"));
                show(
                    mock.send(mock.http.get(url).header("X-Auth-Token", TOKEN))
                        .await,
                )
            }
            Defect::ListJobType | Defect::ListPaging | Defect::ListFilters => {
                let query = match defect {
                    Defect::ListJobType => "",
                    Defect::ListPaging => "?job_type=sync&limit=1",
                    _ => "?job_type=sync&status=INCRE_TRANSFER_FAILED,FULL_TRANSFER_FAILED",
                };
                let url = mock.url(&format!("/v5/{P}/jobs{query}"));
                show(
                    mock.send(mock.http.get(url).header("X-Auth-Token", TOKEN))
                        .await,
                )
            }
            Defect::TagFilter => {
                let url = mock.url(&format!("/v5/{P}/sync/resource-instances/filter"));
                let body = r#"{"tags": [{"key": "team", "values": ["nobody"]}]}"#;
                let request = mock.http.post(url).header("X-Auth-Token", TOKEN);
                show(
                    mock.send(
                        request
                            .header("Content-Type", "application/json")
                            .body(body),
                    )
                    .await,
                )
            }
            Defect::BatchPerItem | Defect::BatchItems => {
                let url = mock.url(&format!("/v5/{P}/jobs/batch-stop"));
                let body = format!(
                    r#"{{"jobs": [{{"job_id": "{RUNNING}"}}, {{"job_id": "{MISSING}"}}]}}"#
                );
                let request = mock.http.post(url).header("X-Auth-Token", TOKEN);
                show(
                    mock.send(
                        request
                            .header("Content-Type", "application/json")
                            .body(body),
                    )
                    .await,
                )
            }
            Defect::AsyncEnds => {
                mock.stop(RUNNING, "{}").await;
                tokio::time::sleep(Duration::from_millis(400)).await;
                mock.status_of(RUNNING).await
            }
        }
    }
    let mut tasks = tokio::task::JoinSet::new();
    for (defect, id) in mock::defects::ALL {
        tasks.spawn(async move {
            let faithful = probe(&start(config()).await, *defect).await;
            let broken = probe(
                &start(MockConfig {
                    defect: Some(*defect),
                    ..config()
                })
                .await,
                *defect,
            )
            .await;
            (id, faithful, broken)
        });
    }
    while let Some(result) = tasks.join_next().await {
        let (id, faithful, broken) = result.unwrap();
        assert_ne!(faithful, broken, "defect {id} changed nothing: {faithful}");
    }
}

#[test]
fn the_binary_prints_its_address_serves_and_stops_on_sigint_and_sigterm() {
    use std::io::{BufRead, BufReader};
    for signal in [libc::SIGINT, libc::SIGTERM] {
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_stopbook"))
            .args([
                "mock",
                "--listen",
                "127.0.0.1:0",
                "--generate",
                "2",
                "--token",
                TOKEN,
            ])
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let mut first = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut first)
            .unwrap();
        let url = first
            .trim()
            .strip_prefix("listening on ")
            .unwrap_or_else(|| panic!("first line: {first:?}"))
            .to_owned();
        assert!(url.starts_with("http://127.0.0.1:"), "{url}");
        stopbook::api::transport::install_crypto_provider();
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let answer = runtime.block_on(async {
            reqwest::Client::builder()
                .no_proxy()
                .build()
                .unwrap()
                .get(format!("{url}/v5/{P}/jobs?job_type=sync"))
                .header("X-Auth-Token", TOKEN)
                .send()
                .await
                .unwrap()
                .json::<Value>()
                .await
                .unwrap()
        });
        assert_eq!(answer["total_count"], 2);
        // SAFETY: sending a signal to our own child process.
        unsafe { libc::kill(child.id() as i32, signal) };
        let deadline = Instant::now() + Duration::from_secs(10);
        let status = loop {
            if let Some(status) = child.try_wait().unwrap() {
                break status;
            }
            assert!(
                Instant::now() < deadline,
                "the mock did not stop on signal {signal}"
            );
            std::thread::sleep(Duration::from_millis(20));
        };
        assert_eq!(status.code(), Some(0), "signal {signal}");
    }
}
