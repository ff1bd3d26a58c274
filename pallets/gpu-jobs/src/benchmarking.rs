//! Benchmarks of the GPU-jobs pallet: every call at its worst (the last reveal concluding a
//! job of `MaxReplication` agreeing providers, a settlement paying all of them, a re-execution
//! of the largest model with 32-level proofs for the input and every revealed result, a
//! challenge that moves the dispute end, the answer of 128 nodes that completes a round) and
//! the expiry step of `on_initialize` paying concluded jobs.

use super::*;
use crate::Pallet as GpuJobs;
use alloc::{vec, vec::Vec};
use dsync_aivm_core::{merkle_node, result_hash, Activation, Dense, Model};
use dsync_primitives::convert::{u32_to_u8, u32_to_usize, usize_to_u32};
use frame_benchmarking::v2::*;
use frame_support::{
	traits::{fungible, EnsureOrigin, Get, Hooks},
	BoundedVec,
};
use frame_system::{pallet_prelude::BlockNumberFor, RawOrigin};
use sp_core::H256;
use sp_runtime::traits::Saturating;

const SEED: u32 = 0;

/// The salt of every commitment of the benchmarks.
const SALT: [u8; 32] = [7u8; 32];

/// The `.aivm` file of a one-layer model with `in_len` inputs and as many outputs as fit in
/// `max_bytes` (at least one): the header (16 bytes), the layer header (12), `m · in_len`
/// weights and `m` biases of 4 bytes.
fn model_bytes(max_bytes: u32, in_len: usize) -> Result<Vec<u8>, BenchmarkError> {
	let room = u32_to_usize(max_bytes).saturating_sub(28);
	let out_len = room
		.checked_div(in_len.saturating_add(4))
		.unwrap_or(1)
		.clamp(1, dsync_aivm_core::MAX_WIDTH);
	let dense = Dense {
		in_len,
		out_len,
		activation: Activation::Relu,
		weights: vec![1; in_len.saturating_mul(out_len)],
		bias: vec![0; out_len],
	};
	Model::new(Vec::new(), dense)
		.map(|model| model.to_bytes())
		.map_err(|_| BenchmarkError::Stop("the benchmark model is invalid"))
}

/// Register the model of [`model_bytes`] with a price floor of 1; its id.
fn register<T: Config>(max_bytes: u32, in_len: usize) -> Result<ModelId, BenchmarkError> {
	let bytes = BoundedVec::try_from(model_bytes(max_bytes, in_len)?)
		.map_err(|_| BenchmarkError::Stop("the benchmark model is too long"))?;
	GpuJobs::<T>::do_register_model(bytes, 1u32.into())
		.map_err(|_| BenchmarkError::Stop("the benchmark model is refused"))
}

/// Make `count` providers of `model` eligible: `(owner, key)` pairs.
fn providers<T: Config>(count: u32, model: ModelId) -> Vec<(T::AccountId, T::AccountId)> {
	(0..count)
		.map(|i| {
			let owner: T::AccountId = account("provider", i, SEED);
			let key: T::AccountId = account("provider-key", i, SEED);
			T::BenchmarkHelper::register_provider(&owner, &key, model);
			(owner, key)
		})
		.collect()
}

/// Registered providers: `(owner, off-chain key)` each.
type Registered<T> =
	Vec<(<T as frame_system::Config>::AccountId, <T as frame_system::Config>::AccountId)>;

/// A client with plenty of funds.
fn client<T: Config>() -> T::AccountId {
	let client: T::AccountId = account("client", 0, SEED);
	let unit = <T::Currency as fungible::Inspect<T::AccountId>>::minimum_balance().max(1u32.into());
	let funds = unit.saturating_mul(1_000_000_000u32.into());
	<T::Currency as fungible::Mutate<T::AccountId>>::set_balance(&client, funds);
	client
}

/// The current block.
fn now<T: Config>() -> BlockNumberFor<T> {
	frame_system::Pallet::<T>::block_number()
}

/// The nearest deadline allowed now.
fn deadline<T: Config>() -> BlockNumberFor<T> {
	now::<T>().saturating_add(Params::<T>::get().min_deadline.into())
}

/// Post an inline job of one item of `input_len` values with `MaxReplication` providers.
fn post_inline<T: Config>(
	client: &T::AccountId,
	model: ModelId,
	input_len: usize,
	deadline: BlockNumberFor<T>,
) -> Result<JobId, BenchmarkError> {
	let input = BoundedVec::try_from(vec![1i8; input_len])
		.map_err(|_| BenchmarkError::Stop("MaxInlineInput is below the model's input"))?;
	let k = u32_to_u8(T::MaxReplication::get());
	let id = GpuJobs::<T>::do_post_job(
		client.clone(),
		model,
		JobInput::Inline(input),
		k,
		1_000u32.into(),
		deadline,
	)
	.map_err(|_| BenchmarkError::Stop("the benchmark job is refused"))?;
	// Draw its providers now rather than `DrawDelay` blocks later.
	GpuJobs::<T>::process_draws(now::<T>().saturating_add(T::DrawDelay::get().into()));
	Ok(id)
}

/// Put jobs `ids` back to their state before their draw, listed for a draw in block `at`.
fn undraw<T: Config>(ids: &[JobId], at: BlockNumberFor<T>) -> Result<(), BenchmarkError> {
	for id in ids {
		let mut job = Jobs::<T>::get(id).ok_or(BenchmarkError::Stop("the job is missing"))?;
		for slot in job.providers.iter() {
			ProviderJobs::<T>::remove(&slot.who, id);
		}
		job.status = JobStatus::Drawing { k: u32_to_u8(job.k()) };
		job.providers = BoundedVec::new();
		Jobs::<T>::insert(id, job);
	}
	let queue = BoundedVec::try_from(ids.to_vec())
		.map_err(|_| BenchmarkError::Stop("more jobs than MaxDrawsPerBlock"))?;
	Draws::<T>::insert(at, queue);
	Ok(())
}

/// Give the first `count` providers of job `id` the commitment to `result` and, with `reveal`,
/// the result itself.
fn fill<T: Config>(id: JobId, result: H256, count: usize, reveal: bool) {
	Jobs::<T>::mutate(id, |job| {
		if let Some(job) = job {
			for slot in job.providers.iter_mut().take(count) {
				slot.commitment = Some(commitment_of(id, &slot.who, &result, &SALT));
				if reveal {
					slot.result = Some(result);
				}
			}
			job.status = JobStatus::Revealing;
		}
	});
}

/// Mark job `id` concluded (a majority revealed); its dispute end, where it is paid.
fn conclude<T: Config>(id: JobId) -> Result<BlockNumberFor<T>, BenchmarkError> {
	Jobs::<T>::mutate(id, |job| {
		job.as_mut().map(|job| {
			job.status = JobStatus::Concluded;
			job.dispute_end
		})
	})
	.ok_or(BenchmarkError::Stop("the job is missing"))
}

/// A concluded job of `u32::MAX` items (on a one-item model) with `MaxReplication` providers:
/// a majority revealed `majority`, the others `minority`. The job and its client.
fn challengeable<T: Config>(
	majority: H256,
	minority: H256,
) -> Result<(JobId, T::AccountId, Registered<T>), BenchmarkError> {
	let k = T::MaxReplication::get();
	let model = register::<T>(64, 1)?;
	let registered = providers::<T>(k, model);
	let caller = client::<T>();
	let id = post_inline::<T>(&caller, model, 1, deadline::<T>())?;
	let winners = u32_to_usize(k / 2 + 1);
	Jobs::<T>::mutate(id, |job| {
		if let Some(job) = job {
			job.items = u32::MAX;
			for (i, slot) in job.providers.iter_mut().enumerate() {
				let result = if i < winners { majority } else { minority };
				slot.commitment = Some(commitment_of(id, &slot.who, &result, &SALT));
				slot.result = Some(result);
			}
		}
	});
	conclude::<T>(id)?;
	Ok((id, caller, registered))
}

/// The off-chain key of the last provider of job `id` that revealed `result` (the longest
/// search for a challenger that signs with its worker's key, which costs a key lookup).
fn key_backing<T: Config>(
	id: JobId,
	result: H256,
	registered: &[(T::AccountId, T::AccountId)],
) -> Result<T::AccountId, BenchmarkError> {
	let job = Jobs::<T>::get(id).ok_or(BenchmarkError::Stop("the job is missing"))?;
	let owner = job
		.providers
		.iter()
		.rev()
		.find(|slot| slot.result == Some(result))
		.map(|slot| slot.who.clone())
		.ok_or(BenchmarkError::Stop("no provider revealed the result"))?;
	registered
		.iter()
		.find(|(who, _)| *who == owner)
		.map(|(_, key)| key.clone())
		.ok_or(BenchmarkError::Stop("the drawn provider is unknown"))
}

/// The last provider of job `id` and its key.
fn last_provider<T: Config>(
	id: JobId,
	registered: &[(T::AccountId, T::AccountId)],
) -> Result<(T::AccountId, T::AccountId), BenchmarkError> {
	let job = Jobs::<T>::get(id).ok_or(BenchmarkError::Stop("the job is missing"))?;
	let owner = job
		.providers
		.last()
		.map(|slot| slot.who.clone())
		.ok_or(BenchmarkError::Stop("the job has no provider"))?;
	registered
		.iter()
		.find(|(who, _)| *who == owner)
		.cloned()
		.ok_or(BenchmarkError::Stop("the drawn provider is unknown"))
}

/// The root of a leaf at index 0 of a batch of `u32::MAX` items with the given 32 siblings.
fn fold(leaf: [u8; 32], siblings: &[H256]) -> H256 {
	H256(siblings.iter().fold(leaf, |node, sibling| merkle_node(&node, &sibling.0)))
}

/// 32 siblings derived from `tag`.
fn siblings(tag: u8) -> BoundedVec<H256, MaxProofLen> {
	BoundedVec::truncate_from(
		(0..32u8).map(|level| H256(sp_io::hashing::blake2_256(&[tag, level]))).collect(),
	)
}

#[benchmarks]
mod benchmarks {
	use super::*;

	/// A model of `b` bytes is parsed and stored.
	#[benchmark]
	fn register_model(b: Linear<48, { T::MaxModelBytes::get() }>) -> Result<(), BenchmarkError> {
		let origin =
			T::ModelOrigin::try_successful_origin().map_err(|_| BenchmarkError::Weightless)?;
		let bytes = BoundedVec::try_from(model_bytes(b, 16)?)
			.map_err(|_| BenchmarkError::Stop("the benchmark model is too long"))?;
		let id = NextModelId::<T>::get();

		#[extrinsic_call]
		_(origin as T::RuntimeOrigin, bytes, 1u32.into());

		assert!(Models::<T>::contains_key(id));
		Ok(())
	}

	#[benchmark]
	fn set_model_status() -> Result<(), BenchmarkError> {
		let origin =
			T::ModelOrigin::try_successful_origin().map_err(|_| BenchmarkError::Weightless)?;
		let model = register::<T>(64, 1)?;

		#[extrinsic_call]
		_(origin as T::RuntimeOrigin, model, false);

		assert!(Models::<T>::get(model).is_some_and(|record| !record.active));
		Ok(())
	}

	#[benchmark]
	fn set_price_floor() -> Result<(), BenchmarkError> {
		let origin =
			T::ModelOrigin::try_successful_origin().map_err(|_| BenchmarkError::Weightless)?;
		let model = register::<T>(64, 1)?;
		let floor: BalanceOf<T> = 5u32.into();

		#[extrinsic_call]
		_(origin as T::RuntimeOrigin, model, floor);

		assert!(Models::<T>::get(model).is_some_and(|record| record.price_floor == floor));
		Ok(())
	}

	/// `c` eligible providers, `MaxReplication` drawn, the longest inline input held.
	#[benchmark]
	fn post_job(
		c: Linear<{ T::MaxReplication::get() }, { T::MaxCandidates::get() }>,
	) -> Result<(), BenchmarkError> {
		// The framework moves a benchmark from block 0 to block 1 for its call: start there, so
		// the deadline computed now is the nearest allowed at the call too.
		frame_system::Pallet::<T>::set_block_number(now::<T>().max(1u32.into()));
		let model = register::<T>(64, 1)?;
		providers::<T>(c, model);
		let client = client::<T>();
		let input = BoundedVec::truncate_from(vec![1i8; u32_to_usize(T::MaxInlineInput::get())]);
		let items = usize_to_u32(input.len());
		let k = u32_to_u8(T::MaxReplication::get());
		let price: BalanceOf<T> = items.into();
		let deadline = deadline::<T>();
		let id = NextJobId::<T>::get();

		#[extrinsic_call]
		_(RawOrigin::Signed(client), model, JobInput::Inline(input), k, price, deadline);

		assert!(Jobs::<T>::contains_key(id));
		Ok(())
	}

	/// The last of `MaxReplication` providers commits.
	#[benchmark]
	fn commit_result() -> Result<(), BenchmarkError> {
		let k = T::MaxReplication::get();
		let model = register::<T>(64, 1)?;
		let registered = providers::<T>(k, model);
		let id = post_inline::<T>(&client::<T>(), model, 1, deadline::<T>())?;
		let result = H256::repeat_byte(1);
		fill::<T>(id, result, u32_to_usize(k).saturating_sub(1), false);
		Jobs::<T>::mutate(id, |job| {
			if let Some(job) = job {
				job.status = JobStatus::Open;
			}
		});
		let (owner, key) = last_provider::<T>(id, &registered)?;
		let commitment = commitment_of(id, &owner, &result, &SALT);

		#[extrinsic_call]
		_(RawOrigin::Signed(key), id, commitment);

		let job = Jobs::<T>::get(id).ok_or(BenchmarkError::Stop("the job is missing"))?;
		assert_eq!(job.status, JobStatus::Revealing);
		Ok(())
	}

	/// The last of `MaxReplication` agreeing providers reveals: the job concludes (its tally
	/// over every provider).
	#[benchmark]
	fn reveal_result() -> Result<(), BenchmarkError> {
		let k = T::MaxReplication::get();
		let model = register::<T>(64, 1)?;
		let registered = providers::<T>(k, model);
		let id = post_inline::<T>(&client::<T>(), model, 1, deadline::<T>())?;
		let result = H256::repeat_byte(1);
		fill::<T>(id, result, u32_to_usize(k), false);
		fill::<T>(id, result, u32_to_usize(k).saturating_sub(1), true);
		let (_, key) = last_provider::<T>(id, &registered)?;

		#[extrinsic_call]
		_(RawOrigin::Signed(key), id, result, SALT);

		let job = Jobs::<T>::get(id).ok_or(BenchmarkError::Stop("the job is missing"))?;
		assert_eq!(job.status, JobStatus::Concluded);
		Ok(())
	}

	/// A job of `MaxReplication` agreeing providers at its dispute end settles and every
	/// provider is paid.
	#[benchmark]
	fn settle() -> Result<(), BenchmarkError> {
		let k = T::MaxReplication::get();
		let model = register::<T>(64, 1)?;
		let caller = client::<T>();
		providers::<T>(k, model);
		let id = post_inline::<T>(&caller, model, 1, deadline::<T>())?;
		fill::<T>(id, H256::repeat_byte(1), u32_to_usize(k), true);
		let dispute_end = conclude::<T>(id)?;
		frame_system::Pallet::<T>::set_block_number(dispute_end);

		#[extrinsic_call]
		_(RawOrigin::Signed(caller), id);

		assert!(!Jobs::<T>::contains_key(id));
		Ok(())
	}

	/// The largest model re-executes an item of a batch of `u32::MAX` items: the input and
	/// each of `MaxReplication` distinct results are proven with 32 siblings; one result wins
	/// and is paid, the others are penalised. Before it, the call closes a challenge whose
	/// round ended undecided (full of the defender's nodes; the challenger stalled, so every
	/// result still needs its claim).
	#[benchmark]
	fn resolve_by_execution() -> Result<(), BenchmarkError> {
		let k = T::MaxReplication::get();
		let in_len = 64usize;
		let model_id = register::<T>(T::MaxModelBytes::get(), in_len)?;
		providers::<T>(k, model_id);
		let caller = client::<T>();
		let url = BoundedVec::truncate_from(b"https://example.com/batch".to_vec());
		let deadline = deadline::<T>();
		let kk = u32_to_u8(k);
		let id = GpuJobs::<T>::do_post_job(
			caller.clone(),
			model_id,
			JobInput::Batch { items: 2, inputs_hash: H256::zero(), url: url.clone() },
			kk,
			1_000u32.into(),
			deadline,
		)
		.map_err(|_| BenchmarkError::Stop("the benchmark job is refused"))?;
		GpuJobs::<T>::process_draws(now::<T>().saturating_add(T::DrawDelay::get().into()));

		let input = vec![1i8; in_len];
		let code = ModelCode::<T>::get(model_id).ok_or(BenchmarkError::Stop("no code"))?;
		let model = Model::parse(&code).map_err(|_| BenchmarkError::Stop("bad model"))?;
		let outputs = model.evaluate(&input).map_err(|_| BenchmarkError::Stop("bad input"))?;
		let expected = result_hash(&outputs);

		let input_proof = siblings(0);
		let inputs_hash = fold(input_leaf(&input), &input_proof);
		let mut claims = Vec::new();
		for j in 0..k {
			let tag = u32_to_u8(j).saturating_add(1);
			let leaf = if j == 0 { expected } else { sp_io::hashing::blake2_256(&[tag]) };
			let proof = siblings(tag);
			claims.push(ResultClaim { root: fold(leaf, &proof), leaf: H256(leaf), proof });
		}
		Jobs::<T>::mutate(id, |job| {
			if let Some(job) = job {
				job.items = u32::MAX;
				job.input = JobInput::Batch { items: u32::MAX, inputs_hash, url };
				for (slot, claim) in job.providers.iter_mut().zip(claims.iter()) {
					slot.commitment = Some(commitment_of(id, &slot.who, &claim.root, &SALT));
					slot.result = Some(claim.root);
				}
				job.status = JobStatus::Challenged;
			}
		});
		if let (Some(stalled), Some(defender)) = (claims.get(1), claims.get(2)) {
			let full = BoundedVec::truncate_from(vec![H256::repeat_byte(4); 128]);
			Challenges::<T>::insert(
				id,
				Challenge {
					by: caller.clone(),
					result: stalled.root,
					defender: defender.root,
					level: 32,
					position: 0,
					result_node: stalled.root,
					defender_node: defender.root,
					result_nodes: None,
					defender_nodes: Some(full),
					round_end: deadline,
					period: 1,
				},
			);
		}
		let item = BatchItem { input: BoundedVec::truncate_from(input), proof: input_proof };
		let claims = BoundedVec::truncate_from(claims);
		frame_system::Pallet::<T>::set_block_number(deadline);

		#[extrinsic_call]
		_(RawOrigin::Signed(caller), id, 0, Some(item), claims);

		assert!(!Jobs::<T>::contains_key(id));
		Ok(())
	}

	/// A challenge opened at the last block of the window of a concluded job of `u32::MAX`
	/// items by the off-chain key of the last provider of its result, replacing another
	/// minority result's stalled challenge (full of the defender's nodes): the rounds end after
	/// the dispute end, which moves to a block whose expiry queue has room for one more job.
	#[benchmark]
	fn challenge() -> Result<(), BenchmarkError> {
		let (id, caller, registered) =
			challengeable::<T>(H256::repeat_byte(1), H256::repeat_byte(2))?;
		let stalled = H256::repeat_byte(3);
		let mut job = Jobs::<T>::get(id).ok_or(BenchmarkError::Stop("the job is missing"))?;
		let at = job.dispute_end.saturating_sub(1u32.into());
		frame_system::Pallet::<T>::set_block_number(at);
		if let Some(slot) = job.providers.last_mut() {
			slot.commitment = Some(commitment_of(id, &slot.who, &stalled, &SALT));
			slot.result = Some(stalled);
		}
		job.status = JobStatus::Challenged;
		// What the earlier walks established: a standing for every result (the most there is
		// to read and write), none of them eliminated.
		let mut verdicts = Verdicts::<T>::until(Pallet::<T>::latest_end(&job));
		for result in job.distinct_results() {
			verdicts.update(result, |standing| standing.confirmed = true);
		}
		JobVerdicts::<T>::insert(id, verdicts);
		Jobs::<T>::insert(id, job);
		let full = BoundedVec::truncate_from(vec![H256::repeat_byte(4); 128]);
		Challenges::<T>::insert(
			id,
			Challenge {
				by: caller.clone(),
				result: stalled,
				defender: H256::repeat_byte(1),
				level: 32,
				position: 0,
				result_node: stalled,
				defender_node: H256::repeat_byte(1),
				result_nodes: None,
				defender_nodes: Some(full),
				round_end: at,
				period: 1,
			},
		);
		let period = Params::<T>::get().reveal_period;
		let end = at.saturating_add(period.saturating_mul(challenge_rounds(u32::MAX)).into());
		let others: Vec<JobId> = (0..T::MaxExpiriesPerBlock::get().saturating_sub(1))
			.map(|i| 1_000_000 + u64::from(i))
			.collect();
		Expiries::<T>::insert(end, BoundedVec::truncate_from(others));

		let challenger = key_backing::<T>(id, H256::repeat_byte(2), &registered)?;

		#[extrinsic_call]
		_(RawOrigin::Signed(challenger), id, H256::repeat_byte(2));

		assert_eq!(Jobs::<T>::get(id).map(|job| job.dispute_end), Some(end));
		let open = Challenges::<T>::get(id).ok_or(BenchmarkError::Stop("no challenge"))?;
		assert_eq!(open.result, H256::repeat_byte(2));
		Ok(())
	}

	/// The second answer of a round of 128 nodes: both runs are hashed to their node, and they
	/// differ only at the last node, where the challenge moves.
	#[benchmark]
	fn reveal_nodes() -> Result<(), BenchmarkError> {
		let majority: Vec<[u8; 32]> =
			(0..128u32).map(|i| sp_io::hashing::blake2_256(&i.to_le_bytes())).collect();
		let mut minority = majority.clone();
		if let Some(last) = minority.last_mut() {
			*last = [0xee; 32];
		}
		let majority_root = H256(dsync_aivm_core::batch_merkle_root(&majority));
		let minority_root = H256(dsync_aivm_core::batch_merkle_root(&minority));
		let (id, caller, registered) = challengeable::<T>(majority_root, minority_root)?;
		let challenger = key_backing::<T>(id, minority_root, &registered)?;
		GpuJobs::<T>::do_challenge(challenger, id, minority_root)
			.map_err(|_| BenchmarkError::Stop("the challenge is refused"))?;
		let nodes = |hashes: &[[u8; 32]]| {
			BoundedVec::truncate_from(hashes.iter().copied().map(H256).collect::<Vec<_>>())
		};
		GpuJobs::<T>::do_reveal_nodes(id, majority_root, nodes(&majority))
			.map_err(|_| BenchmarkError::Stop("the majority's nodes are refused"))?;

		#[extrinsic_call]
		_(RawOrigin::Signed(caller), id, minority_root, nodes(&minority));

		let open = Challenges::<T>::get(id).ok_or(BenchmarkError::Stop("no challenge"))?;
		assert_eq!((open.level, open.position), (25, 127));
		Ok(())
	}

	#[benchmark]
	fn set_parameters() -> Result<(), BenchmarkError> {
		let origin =
			T::AdminOrigin::try_successful_origin().map_err(|_| BenchmarkError::Weightless)?;
		let parameters = GpuJobsParams {
			min_deadline: 30,
			max_deadline: 1_000,
			reveal_period: 10,
			dispute_period: 50,
			unavailable_forfeit: sp_runtime::Perbill::from_percent(20),
		};

		#[extrinsic_call]
		_(origin as T::RuntimeOrigin, parameters);

		assert_eq!(Params::<T>::get(), parameters);
		Ok(())
	}

	/// The draws of `n` jobs of one model, `MaxReplication` providers each, among every
	/// candidate the runtime allows (`MaxCandidates` eligible providers), in the
	/// `on_initialize` of their draw block: the candidates read once, then `n` draws.
	#[benchmark]
	fn on_initialize_draw(
		n: Linear<1, { T::MaxDrawsPerBlock::get() }>,
	) -> Result<(), BenchmarkError> {
		let model = register::<T>(64, 1)?;
		providers::<T>(T::MaxCandidates::get(), model);
		let caller = client::<T>();
		let at = now::<T>().saturating_add(1u32.into());
		let mut ids = Vec::new();
		for _ in 0..n {
			ids.push(post_inline::<T>(&caller, model, 1, deadline::<T>())?);
		}
		undraw::<T>(&ids, at)?;

		#[block]
		{
			GpuJobs::<T>::process_draws(at);
		}

		for id in ids {
			let job = Jobs::<T>::get(id).ok_or(BenchmarkError::Stop("the job is missing"))?;
			assert_eq!(job.status, JobStatus::Open);
			assert_eq!(job.k(), T::MaxReplication::get());
		}
		Ok(())
	}

	/// `n` concluded jobs of `MaxReplication` agreeing providers reach their dispute end in this
	/// block and are paid.
	#[benchmark]
	fn on_initialize_expire(
		n: Linear<
			0,
			{
				T::MaxJobsPerBlockSettled::get()
					.min(T::MaxExpiriesPerBlock::get())
					.min(T::MaxOpenJobs::get())
			},
		>,
	) -> Result<(), BenchmarkError> {
		let k = T::MaxReplication::get();
		let model = register::<T>(64, 1)?;
		providers::<T>(k, model);
		let caller = client::<T>();
		let deadline = deadline::<T>();
		let mut ids = Vec::new();
		let mut end = deadline;
		for _ in 0..n {
			let id = post_inline::<T>(&caller, model, 1, deadline)?;
			fill::<T>(id, H256::repeat_byte(1), u32_to_usize(k), true);
			end = conclude::<T>(id)?;
			ids.push(id);
		}
		frame_system::Pallet::<T>::set_block_number(end);
		ExpiryCursor::<T>::put(end);

		#[block]
		{
			GpuJobs::<T>::on_initialize(end);
		}

		assert!(ids.iter().all(|id| !Jobs::<T>::contains_key(id)));
		Ok(())
	}

	impl_benchmark_test_suite!(GpuJobs, crate::mock::new_bench_ext(), crate::mock::Test);
}
