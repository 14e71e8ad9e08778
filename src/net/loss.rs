//! Packet loss models.

use rand::RngExt;

use super::NetDrop;
use crate::rng::StreamRng;

/// How a path loses packets. Each directed path draws from its own random stream.
#[derive(Clone, Debug, PartialEq)]
pub enum LossModel {
    None,
    /// Each packet is lost independently with probability `p`.
    Bernoulli {
        p: f64,
    },
    /// Gilbert-Elliott two-state bursty loss: in state Good packets are lost with `loss_good`,
    /// in Bad with `loss_bad`; before each packet the chain moves Good->Bad with `p_good_bad`
    /// and Bad->Good with `p_bad_good`.
    GilbertElliott {
        p_good_bad: f64,
        p_bad_good: f64,
        loss_good: f64,
        loss_bad: f64,
        bad: bool,
    },
}

impl LossModel {
    /// Draws whether the next packet is lost.
    pub fn lose(&mut self, rng: &mut StreamRng) -> Option<NetDrop> {
        match self {
            LossModel::None => None,
            LossModel::Bernoulli { p } => {
                (*p > 0.0 && rng.random_bool(*p)).then_some(NetDrop::Loss)
            }
            LossModel::GilbertElliott {
                p_good_bad,
                p_bad_good,
                loss_good,
                loss_bad,
                bad,
            } => {
                let flip = if *bad { *p_bad_good } else { *p_good_bad };
                if flip > 0.0 && rng.random_bool(flip) {
                    *bad = !*bad;
                }
                let p = if *bad { *loss_bad } else { *loss_good };
                (p > 0.0 && rng.random_bool(p)).then_some(NetDrop::BurstLoss)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::RngStreams;

    #[test]
    fn bernoulli_rate_is_close_to_p() {
        let mut rng = RngStreams::new(1).stream("t");
        let mut m = LossModel::Bernoulli { p: 0.2 };
        let lost = (0..100_000).filter(|_| m.lose(&mut rng).is_some()).count();
        assert!((19_000..21_000).contains(&lost), "{lost}");
    }

    #[test]
    fn gilbert_elliott_losses_come_in_bursts() {
        let mut rng = RngStreams::new(1).stream("t");
        let mut m = LossModel::GilbertElliott {
            p_good_bad: 0.01,
            p_bad_good: 0.2,
            loss_good: 0.0,
            loss_bad: 1.0,
            bad: false,
        };
        let seq: Vec<bool> = (0..100_000).map(|_| m.lose(&mut rng).is_some()).collect();
        let lost = seq.iter().filter(|&&l| l).count();
        let runs = seq.windows(2).filter(|w| !w[0] && w[1]).count();
        // stationary loss = 0.01 / (0.01 + 0.2) ~ 4.8 %; mean burst = 1 / 0.2 = 5
        assert!((3_800..5_800).contains(&lost), "{lost}");
        let mean_burst = lost as f64 / runs as f64;
        assert!((4.0..6.0).contains(&mean_burst), "{mean_burst}");
    }
}
