//! The charts' colours stay apart under simulated colour-vision deficiency: SYN-RECEIVED and
//! ESTABLISHED (the two states a flood is about), and every pair of outcome colours, under
//! deuteranopia and protanopia (Machado, Oliveira and Fernandes 2009, severity 1, applied in
//! linear RGB), measured as CIE76 colour distance in L*a*b*.

use synsim::report::charts::{outcome_color, state_color};
use synsim::sim::Outcome;
use synsim::tcp::TcpState;

type Rgb = (u8, u8, u8);

const DEUTERANOPIA: [[f64; 3]; 3] = [
    [0.367322, 0.860646, -0.227968],
    [0.280085, 0.672501, 0.047413],
    [-0.011820, 0.042940, 0.968881],
];
const PROTANOPIA: [[f64; 3]; 3] = [
    [0.152286, 1.052583, -0.204868],
    [0.114503, 0.786281, 0.099216],
    [-0.003882, -0.048116, 1.051998],
];

fn linear(c: u8) -> f64 {
    let c = c as f64 / 255.0;
    if c <= 0.04045 {
        c / 12.92
    } else {
        ((c + 0.055) / 1.055).powf(2.4)
    }
}

/// Linear RGB as a person with the deficiency `m` sees it (clamped).
fn simulate(m: &[[f64; 3]; 3], (r, g, b): Rgb) -> [f64; 3] {
    let l = [linear(r), linear(g), linear(b)];
    let mut out = [0.0; 3];
    for (i, row) in m.iter().enumerate() {
        out[i] = (row[0] * l[0] + row[1] * l[1] + row[2] * l[2]).clamp(0.0, 1.0);
    }
    out
}

/// CIE L*a*b* (D65) of a linear RGB colour.
fn lab([r, g, b]: [f64; 3]) -> [f64; 3] {
    let x = (0.4124 * r + 0.3576 * g + 0.1805 * b) / 0.95047;
    let y = 0.2126 * r + 0.7152 * g + 0.0722 * b;
    let z = (0.0193 * r + 0.1192 * g + 0.9505 * b) / 1.08883;
    let f = |t: f64| {
        if t > 0.008856 {
            t.cbrt()
        } else {
            7.787 * t + 16.0 / 116.0
        }
    };
    let (fx, fy, fz) = (f(x), f(y), f(z));
    [116.0 * fy - 16.0, 500.0 * (fx - fy), 200.0 * (fy - fz)]
}

fn distance(m: Option<&[[f64; 3]; 3]>, a: Rgb, b: Rgb) -> f64 {
    let see = |c: Rgb| match m {
        Some(m) => simulate(m, c),
        None => [linear(c.0), linear(c.1), linear(c.2)],
    };
    let (p, q) = (lab(see(a)), lab(see(b)));
    ((p[0] - q[0]).powi(2) + (p[1] - q[1]).powi(2) + (p[2] - q[2]).powi(2)).sqrt()
}

fn rgb(c: plotters::style::RGBColor) -> Rgb {
    (c.0, c.1, c.2)
}

const VISIONS: [(&str, Option<&[[f64; 3]; 3]>); 3] = [
    ("normal vision", None),
    ("deuteranopia", Some(&DEUTERANOPIA)),
    ("protanopia", Some(&PROTANOPIA)),
];

#[test]
fn syn_received_and_established_stay_far_apart() {
    let (a, b) = (
        rgb(state_color(TcpState::SynReceived)),
        rgb(state_color(TcpState::Established)),
    );
    for (name, m) in VISIONS {
        let d = distance(m, a, b);
        assert!(
            d >= 40.0,
            "{name}: SYN-RECEIVED vs ESTABLISHED only {d:.1} apart"
        );
    }
}

#[test]
fn the_old_red_and_green_would_have_failed() {
    // The check can fail: the red/green pair used before is 7 apart under deuteranopia.
    let d = distance(Some(&DEUTERANOPIA), (214, 39, 40), (44, 160, 44));
    assert!(d < 15.0, "{d}");
}

#[test]
fn every_pair_of_outcome_colours_is_distinguishable() {
    for (i, &a) in Outcome::ALL.iter().enumerate() {
        for &b in &Outcome::ALL[i + 1..] {
            for (name, m) in VISIONS {
                let d = distance(m, rgb(outcome_color(a)), rgb(outcome_color(b)));
                assert!(d >= 15.0, "{name}: {a:?} vs {b:?} only {d:.1} apart");
            }
        }
    }
}

#[test]
fn the_states_a_handshake_passes_through_are_distinguishable() {
    use TcpState::*;
    let states = [
        Listen,
        SynSent,
        SynReceived,
        Established,
        FinWait1,
        FinWait2,
        TimeWait,
    ];
    for (i, &a) in states.iter().enumerate() {
        for &b in &states[i + 1..] {
            for (name, m) in VISIONS {
                let d = distance(m, rgb(state_color(a)), rgb(state_color(b)));
                assert!(d >= 12.0, "{name}: {a:?} vs {b:?} only {d:.1} apart");
            }
        }
    }
}
