//! The stacks' retransmission schedules and profile defaults, computed from the knobs alone
//! (no simulation): the numbers each profile's documentation quotes.

use synsim::tcp::{Profile, StackConfig};

fn schedule(cfg: &StackConfig) -> (Vec<u64>, u64) {
    cfg.syn_schedule_ms()
}

#[test]
fn linux_defaults_match_measured_schedule() {
    let (sends, give_up) = schedule(&StackConfig::linux());
    let secs: Vec<u64> = sends.iter().map(|t| t / 1000).collect();
    assert_eq!(secs, [0, 1, 2, 3, 4, 5, 7, 11, 19, 35, 67]);
    assert!(sends.iter().all(|t| t % 1000 == 0));
    assert_eq!(give_up, 131_000);
}

#[test]
fn linux_syn_retries_2_gives_six_syns_and_7s() {
    let cfg = StackConfig {
        syn_retries: 2,
        ..StackConfig::linux()
    };
    let (sends, give_up) = schedule(&cfg);
    assert_eq!(sends, [0, 1000, 2000, 3000, 4000, 5000]);
    assert_eq!(give_up, 7000);
}

#[test]
fn linux_without_linear_phase_is_classic() {
    let cfg = StackConfig {
        syn_linear_timeouts: 0,
        ..StackConfig::linux()
    };
    let (sends, give_up) = schedule(&cfg);
    assert_eq!(sends, [0, 1000, 3000, 7000, 15000, 31000, 63000]);
    assert_eq!(give_up, 127_000);
}

#[test]
fn linux5_doubles_from_the_first_timeout_and_holds_backlog_requests() {
    let c = StackConfig::linux5();
    let (sends, give_up) = schedule(&c);
    assert_eq!(sends, [0, 1000, 3000, 7000, 15000, 31000, 63000]);
    assert_eq!(give_up, 127_000);
    assert_eq!(c.syn_queue_rule.capacity(128), 128);
    assert_eq!(c.accept_queue_rule.capacity(128), 129);
    assert_eq!(c.timer_hz, 250);
}

#[test]
fn freebsd_multipliers_and_keepinit() {
    let (sends, give_up) = schedule(&StackConfig::freebsd());
    assert_eq!(
        sends,
        [
            0, 1000, 2000, 3000, 4000, 5000, 7000, 11000, 19000, 35000, 67000
        ]
    );
    assert_eq!(give_up, 75_000);
}

#[test]
fn rfc9293_doubles_to_the_cap_and_waits_three_minutes() {
    let (sends, give_up) = schedule(&StackConfig::rfc9293());
    assert_eq!(sends, [0, 1000, 3000, 7000, 15000, 31000, 63000, 123000]);
    assert_eq!(give_up, 180_000);
}

#[test]
fn synack_schedule_doubles_and_caps() {
    let c = StackConfig::linux();
    let fires: Vec<u64> = (0..6)
        .scan(0, |t, n| {
            *t += c.synack_rto_after(n);
            Some(*t)
        })
        .collect();
    assert_eq!(fires, [1000, 3000, 7000, 15000, 31000, 63000]);
    assert_eq!(c.synack_rto_after(40), 120_000);
}

#[test]
fn synack_schedule_and_expiry() {
    assert_eq!(
        StackConfig::linux().synack_schedule_ms(),
        (vec![0, 1000, 3000, 7000, 15000, 31000], 63000)
    );
    assert_eq!(
        StackConfig::freebsd().synack_schedule_ms(),
        (vec![0, 1000, 3000, 7000], 15000)
    );
}

#[test]
fn profiles_validate() {
    for p in Profile::ALL {
        assert_eq!(p.config().validate(), Ok(()), "{}", p.name());
    }
}
