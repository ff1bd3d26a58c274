//! Conservation of funds over many pseudo-random jobs: whatever the providers do (agree,
//! disagree, collude, stay away) and whoever resolves disputes, every job ends, every escrow is
//! released, clients pay exactly what their settled jobs report, providers and the treasury get
//! exactly their shares and the total issuance falls by exactly what was burned.
//!
//! The cases come from a fixed-seed xorshift generator, so failures reproduce.

use crate::{mock::*, *};
use frame_support::assert_ok;
use sp_core::H256;
use std::collections::BTreeMap;

/// xorshift64*: small, fast and good enough to spread test cases.
struct Rng(u64);

impl Rng {
	fn next(&mut self) -> u64 {
		self.0 ^= self.0 >> 12;
		self.0 ^= self.0 << 25;
		self.0 ^= self.0 >> 27;
		self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
	}

	/// A number in `0..bound`.
	fn below(&mut self, bound: u64) -> u64 {
		self.next() % bound
	}
}

/// What a provider does with a job.
#[derive(Clone, Copy)]
enum Behaviour {
	/// Commits and reveals the true result.
	Honest,
	/// Commits and reveals a wrong result shared with other colluders.
	Colluding,
	/// Commits and reveals a wrong result of its own.
	Wrong(u8),
	/// Commits and never reveals.
	Silent,
	/// Never commits.
	Absent,
}

#[test]
fn settlement_conserves_funds_over_random_jobs() {
	for case in 0..30u64 {
		let mut rng = Rng(0x5eed_0000_0000_0001 ^ (case.wrapping_mul(0x9e37_79b9_7f4a_7c15)));
		ExtBuilder::empty().providers(7).build_and_execute(|| {
			let accounts: Vec<AccountId> =
				[ALICE, BOB, TREASURY].into_iter().chain((1..=7).map(provider)).collect();
			let before: BTreeMap<AccountId, Balance> =
				accounts.iter().map(|who| (who.clone(), free(who))).collect();
			let issuance_before = issuance();

			// Post jobs.
			let mut jobs: Vec<(JobId, AccountId, Balance, Vec<i8>)> = Vec::new();
			for _ in 0..1 + rng.below(5) {
				let client = if rng.below(2) == 0 { ALICE } else { BOB };
				let items = 1 + rng.below(3) as usize;
				let k = 1 + rng.below(7) as u8;
				let price = FLOOR * items as Balance + rng.below(5_000);
				let input = digit_items(items, rng.below(200) as u8);
				let id = post(&client, inline(input.clone()), k, price);
				jobs.push((id, client, price, input));
			}

			// Providers commit.
			let mut plan: Vec<(JobId, AccountId, Behaviour, H256)> = Vec::new();
			for (id, _, _, input) in &jobs {
				let truth = digit_result(input);
				for who in providers_of(*id) {
					let behaviour = match rng.below(8) {
						0..=3 => Behaviour::Honest,
						4 => Behaviour::Colluding,
						5 => Behaviour::Wrong(rng.below(200) as u8),
						6 => Behaviour::Silent,
						_ => Behaviour::Absent,
					};
					let result = match behaviour {
						Behaviour::Honest => truth,
						Behaviour::Colluding => H256::repeat_byte(0xc0),
						Behaviour::Wrong(byte) => H256::repeat_byte(byte),
						Behaviour::Silent | Behaviour::Absent => truth,
					};
					if !matches!(behaviour, Behaviour::Absent) {
						assert_ok!(commit(&who, *id, result));
					}
					plan.push((*id, who, behaviour, result));
				}
			}

			// Reveals after the commit deadline (jobs still open may conclude on the way).
			run_to_block(17);
			for (id, who, behaviour, result) in &plan {
				let revealing = !matches!(behaviour, Behaviour::Silent | Behaviour::Absent);
				if revealing && Jobs::<Test>::contains_key(id) {
					assert_ok!(reveal(who, *id, *result));
				}
			}

			// Some disputes are resolved by re-executing the last item.
			run_to_block(21);
			for (id, _, _, input) in &jobs {
				let Some(job) = Jobs::<Test>::get(id) else { continue };
				if job.status != JobStatus::Disputed || rng.below(3) == 0 {
					continue;
				}
				let index = job.items - 1;
				let leaves = dsync_aivm_core::batch_result_hashes(&digit_outputs(input), 10);
				let truth = H256(dsync_aivm_core::batch_merkle_root(&leaves));
				// A wrong result here is an arbitrary hash: nobody can prove a leaf of it, so a
				// job of several items with one is left to its dispute end.
				if job.items > 1 && job.distinct_results().iter().any(|root| *root != truth) {
					continue;
				}
				let claims = if job.items > 1 {
					let proof = dsync_aivm_core::merkle_proof(&leaves, index as usize).unwrap();
					vec![claim(truth, H256(leaves[index as usize]), proof)]
				} else {
					Vec::new()
				};
				assert_ok!(GpuJobs::resolve_by_execution(
					RuntimeOrigin::signed(BOB),
					*id,
					index,
					None,
					frame_support::BoundedVec::try_from(claims).unwrap(),
				));
			}

			// Everything ends by the last dispute end.
			run_to_block(32);
			assert_eq!(OpenJobCount::<Test>::get(), 0);
			assert_eq!(OpenEscrow::<Test>::get(), 0);
			assert_eq!(held(&ALICE), 0);
			assert_eq!(held(&BOB), 0);

			// What the events report.
			let prices: BTreeMap<JobId, (AccountId, Balance)> = jobs
				.iter()
				.map(|(id, client, price, _)| (*id, (client.clone(), *price)))
				.collect();
			let escrow_of = |job: JobId| {
				let k = plan.iter().filter(|(id, ..)| *id == job).count() as Balance;
				prices[&job].1 * k
			};
			let mut expected: BTreeMap<AccountId, i128> = BTreeMap::new();
			let mut burned_total: Balance = 0;
			let mut ended = 0;
			for event in events() {
				match event {
					Event::JobSettled { job, winners, paid, burned, refunded, .. } => {
						ended += 1;
						let (client, price) = prices[&job].clone();
						let count = winners.len() as Balance;
						assert_eq!(paid, price * count);
						assert_eq!(burned, burn_share(price) * count);
						assert_eq!(paid + refunded, escrow_of(job));
						*expected.entry(client).or_default() -= i128::from(paid);
						for winner in winners {
							*expected.entry(winner).or_default() +=
								i128::from(provider_share(price));
							*expected.entry(TREASURY).or_default() +=
								i128::from(treasury_share(price));
						}
						burned_total += burned;
					},
					Event::JobRefunded { job, refunded, .. }
					| Event::JobExpired { job, refunded } => {
						ended += 1;
						assert_eq!(refunded, escrow_of(job));
					},
					_ => {},
				}
			}
			assert_eq!(ended, jobs.len());
			for who in &accounts {
				let change = i128::from(free(who)) - i128::from(before[who]);
				assert_eq!(change, expected.get(who).copied().unwrap_or(0), "balance of {who:?}");
			}
			assert_eq!(issuance_before - issuance(), burned_total);
		});
	}
}
