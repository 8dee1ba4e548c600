//! Parsing and showing back every value type of the runbook format.

use super::*;

#[test]
fn durations_parse_in_every_unit_and_print_canonically() {
    for (text, ms, shown) in [
        ("250ms", 250, "250ms"),
        ("30s", 30_000, "30s"),
        ("10m", 600_000, "10m"),
        ("1h", 3_600_000, "1h"),
        ("90s", 90_000, "90s"),
        ("60m", 3_600_000, "1h"),
        ("1000ms", 1000, "1s"),
        ("0s", 0, "0s"),
    ] {
        let d: Duration = text.parse().unwrap();
        assert_eq!(d.as_millis(), ms, "{text}");
        assert_eq!(d.to_string(), shown, "{text}");
    }
}

#[test]
fn bad_durations_say_what_is_expected() {
    for text in ["", "30", "s", "1.5s", "-1s", "30 s", "30sec", "1d", "ms10"] {
        let e = text.parse::<Duration>().unwrap_err().to_string();
        assert!(
            e.contains("expected a whole number and a unit"),
            "{text}: {e}"
        );
    }
    assert!(
        "999999999h"
            .parse::<Duration>()
            .unwrap_err()
            .to_string()
            .contains("too long")
    );
    assert!("169h".parse::<Duration>().is_err());
}

#[test]
fn rates_parse_per_second_and_minute() {
    assert_eq!(
        "5/s".parse::<Rate>().unwrap(),
        Rate {
            count: 5,
            per: Per::Second
        }
    );
    assert_eq!(
        "300/m".parse::<Rate>().unwrap(),
        Rate {
            count: 300,
            per: Per::Minute
        }
    );
    assert_eq!("300/m".parse::<Rate>().unwrap().to_string(), "300/m");
    for bad in ["5", "5/h", "/s", "x/s", "5/sec", "-1/s"] {
        assert!(bad.parse::<Rate>().is_err(), "{bad}");
    }
    assert!(
        "0/s"
            .parse::<Rate>()
            .unwrap_err()
            .to_string()
            .contains("never send")
    );
    assert!("1000000/s".parse::<Rate>().is_ok());
    assert!("60000000/m".parse::<Rate>().is_ok());
    for absurd in ["1000001/s", "60000001/m", "4294967295/s"] {
        assert!(
            absurd
                .parse::<Rate>()
                .unwrap_err()
                .to_string()
                .contains("at most"),
            "{absurd}"
        );
    }
}

#[test]
fn job_ids_are_8_4_4_4_12_of_lowercase_alphanumerics_not_hex() {
    for good in [
        "c7debc9c-8e09-4a5d-8dd6-cc44f78jb20r",
        "0b1c2d3e-4f50-4a6b-8c7d-8e9f0a1jb11x",
    ] {
        assert_eq!(good.parse::<JobId>().unwrap().as_str(), good);
    }
    for bad in [
        "c7debc9c-8e09-4a5d-8dd6-cc44f78jb20",
        "c7debc9c8e094a5d8dd6cc44f78jb20r",
        "c7debc9c-8e09-4a5d-8dd6-cc44f78jb20r-",
        "c7debc9c-8e09-4a5d-8dd6_cc44f78jb20r",
        "c7debc9c-8e09-4a5d-8dd6-cc44f78jb2√r",
        "",
    ] {
        assert!(bad.parse::<JobId>().is_err(), "{bad}");
    }
    let upper = "C7DEBC9C-8e09-4a5d-8dd6-cc44f78jb20r"
        .parse::<JobId>()
        .unwrap_err()
        .to_string();
    assert!(upper.contains("lower case"), "{upper}");
}

#[test]
fn project_ids_are_32_lowercase_hex() {
    assert!(
        "054ba152d480d55b2f5dc0069e7ddef0"
            .parse::<ProjectId>()
            .is_ok()
    );
    for bad in [
        "054BA152D480D55B2F5DC0069E7DDEF0",
        "054ba152d480d55b2f5dc0069e7ddef",
        "054ba152d480d55b2f5dc0069e7ddefg",
    ] {
        assert!(bad.parse::<ProjectId>().is_err(), "{bad}");
    }
}

#[test]
fn failure_budgets_are_counts_or_percentages() {
    assert_eq!(
        "3".parse::<FailureBudget>().unwrap(),
        FailureBudget::Count(3)
    );
    assert_eq!(
        "5%".parse::<FailureBudget>().unwrap(),
        FailureBudget::Percent(500)
    );
    assert_eq!(
        "2.5%".parse::<FailureBudget>().unwrap(),
        FailureBudget::Percent(250)
    );
    assert_eq!(
        "0.25%".parse::<FailureBudget>().unwrap().to_string(),
        "0.25%"
    );
    assert_eq!("2.5%".parse::<FailureBudget>().unwrap().to_string(), "2.5%");
    for bad in ["101%", "5 %", "%", "-1%", "1.234%", "five", ".5%"] {
        assert!(bad.parse::<FailureBudget>().is_err(), "{bad}");
    }
    assert_eq!(FailureBudget::Percent(500).allowed(200), 10);
    assert_eq!(FailureBudget::Percent(500).allowed(19), 0);
    assert_eq!(FailureBudget::Count(2).allowed(1), 2);
}

#[test]
fn endpoints_are_https_or_loopback_http() {
    for good in [
        "https://drs.cn-north-4.myhuaweicloud.com",
        "http://127.0.0.1:8080",
        "http://localhost:1/",
        "http://[::1]:9",
    ] {
        assert!(good.parse::<Endpoint>().is_ok(), "{good}");
    }
    let plain = "http://drs.example.com"
        .parse::<Endpoint>()
        .unwrap_err()
        .to_string();
    assert!(plain.contains("not a loopback host"), "{plain}");
    assert!("http://10.0.0.1".parse::<Endpoint>().is_err());
    assert!(
        "https://user:pw@h.example"
            .parse::<Endpoint>()
            .unwrap_err()
            .to_string()
            .contains("credentials")
    );
    assert!("https://h.example/v5".parse::<Endpoint>().is_err());
    assert!("ftp://h.example".parse::<Endpoint>().is_err());
    assert_eq!(
        "https://h.example/"
            .parse::<Endpoint>()
            .unwrap()
            .to_string(),
        "https://h.example"
    );
}

#[test]
fn pasted_credentials_are_told_apart_from_variable_names() {
    for secret in [
        "QTWAOYTTINDUT2QVKYUC",
        "MFyfvK41ba2giqM7Uio6PznpdUKGpownRZlmVmHc",
        "MIIDkgYJKoZIhvcNAQcCoIIDgzCCA38CAQExDTALBglghkgBZQMEAgEw",
    ] {
        assert!(looks_like_credential(secret), "{secret}");
    }
    for name in [
        "DRS_AUTH_TOKEN",
        "HUAWEICLOUD_SDK_AK",
        "HUAWEICLOUD_SDK_SECURITY_TOKEN",
        "TOKEN",
        "IAM_PASSWORD",
    ] {
        assert!(!looks_like_credential(name), "{name}");
    }
}

#[test]
fn regions_name_the_vendor_hosts() {
    let north: Region = "cn-north-4".parse().unwrap();
    assert_eq!(
        north.drs_endpoint().to_string(),
        "https://drs.cn-north-4.myhuaweicloud.com"
    );
    assert_eq!(
        north.iam_endpoint().to_string(),
        "https://iam.cn-north-4.myhuaweicloud.com"
    );
    let eu: Region = "eu-west-101".parse().unwrap();
    assert_eq!(
        eu.drs_endpoint().to_string(),
        "https://drs.eu-west-101.myhuaweicloud.eu"
    );
    assert_eq!(
        eu.iam_endpoint().to_string(),
        "https://iam.eu-west-101.myhuaweicloud.eu"
    );
}

#[test]
fn regions_and_languages() {
    for good in ["cn-north-4", "ap-southeast-1", "eu-west-101", "la-north-2"] {
        assert!(good.parse::<Region>().is_ok(), "{good}");
    }
    for bad in ["cn-north", "CN-north-4", "north-4", "cn--4"] {
        assert!(bad.parse::<Region>().is_err(), "{bad}");
    }
    assert_eq!("zh-cn".parse::<Language>().unwrap(), Language::ZhCn);
    assert!("en".parse::<Language>().is_err());
}
