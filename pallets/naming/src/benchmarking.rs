//! Benchmarks of the naming pallet, every call at its worst: names at `MaxDepth` (liveness
//! walks every ancestor), full record lists of the longest values, replaced entries that carry
//! records and deposits, full commitment lists (expired ones, whose deposits are released).

use super::*;
use crate::Pallet as Naming;
use alloc::{vec, vec::Vec};
use dsync_primitives::naming::{child_id, tld_id, MAX_NAME_LEN, TLD};
use frame_benchmarking::v2::*;
use frame_support::traits::{fungible, EnsureOrigin, Get};
use frame_system::{pallet_prelude::BlockNumberFor, RawOrigin};
use sp_core::H256;
use sp_runtime::traits::{Bounded, Saturating, Zero};

const SEED: u32 = 0;
const SECRET: [u8; 32] = [7; 32];

/// Parameters for the benchmarks: cheap rent, a premium and deposits so every path pays.
fn set_params<T: Config>() {
	Params::<T>::put(NamingParams {
		min_commitment_age: 1u32.into(),
		max_commitment_age: 100u32.into(),
		year_length: 1_000u32.into(),
		grace_period: 10u32.into(),
		premium_start: 1_000u32.into(),
		premium_period: 100u32.into(),
		rent_per_year: [1_000u32.into(); 5],
		max_years: 10,
		subname_deposit: 1_000u32.into(),
		commitment_deposit: 1_000u32.into(),
	});
}

/// Blocks after which the benchmarks' commitments are expired (`max_commitment_age` + 1).
const EXPIRED_AFTER: u32 = 101;

/// What `who` holds as commitment deposits.
fn commitment_held<T: Config>(who: &T::AccountId) -> BalanceOf<T> {
	<T::Currency as fungible::InspectHold<T::AccountId>>::balance_on_hold(
		&HoldReason::CommitmentDeposit.into(),
		who,
	)
}

/// `who` fills its commitment list (`MaxCommitments` commitments, each holding a deposit).
fn fill_commitments<T: Config>(who: &T::AccountId) -> Result<(), BenchmarkError> {
	for index in 1..=T::MaxCommitments::get() {
		Naming::<T>::do_commit(
			who.clone(),
			H256(sp_io::hashing::blake2_256(&index.to_le_bytes())),
		)?;
	}
	Ok(())
}

/// A funded account.
fn funded<T: Config>(name: &'static str, index: u32) -> T::AccountId {
	let who: T::AccountId = account(name, index, SEED);
	let amount = BalanceOf::<T>::max_value() / 4u32.into();
	<T::Currency as fungible::Mutate<T::AccountId>>::set_balance(&who, amount);
	who
}

fn now<T: Config>() -> BlockNumberFor<T> {
	frame_system::Pallet::<T>::block_number()
}

fn advance<T: Config>(blocks: u32) {
	frame_system::Pallet::<T>::set_block_number(now::<T>().saturating_add(blocks.into()));
}

/// The longest label.
fn long_label(fill: u8) -> Vec<u8> {
	vec![fill; MAX_LABEL_LEN]
}

/// Register `label` for `owner` through commit and reveal; its id.
fn register_name<T: Config>(owner: &T::AccountId, label: &[u8]) -> Result<NameId, BenchmarkError> {
	let commitment = Naming::<T>::commitment_of(label, owner, &SECRET);
	Naming::<T>::do_commit(owner.clone(), commitment)?;
	advance::<T>(1);
	Naming::<T>::do_register(owner.clone(), label.to_vec(), owner.clone(), SECRET, 1)?;
	Ok(child_id(&tld_id(), label))
}

/// A registration owned by `owner` and subnames under it down to `depth` labels, all owned by
/// `owner`; the ids from the top.
fn chain<T: Config>(owner: &T::AccountId, depth: u32) -> Result<Vec<NameId>, BenchmarkError> {
	// Labels as long as the 253-byte limit allows at this depth.
	let len = ((MAX_NAME_LEN - TLD.len()) / depth.max(1) as usize)
		.saturating_sub(1)
		.min(MAX_LABEL_LEN);
	let label_at = |level: u32| vec![b'a'.saturating_add((level % 26) as u8); len];
	let mut ids = vec![register_name::<T>(owner, &label_at(0))?];
	for level in 1..depth {
		let parent = *ids.last().ok_or(BenchmarkError::Stop("no parent"))?;
		let label = label_at(level);
		Naming::<T>::do_set_subname(owner.clone(), parent, label.clone(), owner.clone())?;
		ids.push(child_id(&parent, &label));
	}
	Ok(ids)
}

fn deepest(ids: &[NameId]) -> Result<NameId, BenchmarkError> {
	ids.last().copied().ok_or(BenchmarkError::Stop("empty chain"))
}

/// The caller's name at `MaxDepth`, with full records when `with_records`.
fn deepest_name<T: Config>(
	caller: &T::AccountId,
	with_records: bool,
) -> Result<NameId, BenchmarkError> {
	let name = deepest(&chain::<T>(caller, T::MaxDepth::get())?)?;
	if with_records {
		fill_records::<T>(caller, name)?;
	}
	Ok(name)
}

/// `MaxRecords` TXT values of the longest valid length on `name`.
fn fill_records<T: Config>(owner: &T::AccountId, name: NameId) -> Result<(), BenchmarkError> {
	Naming::<T>::do_set_records(owner.clone(), name, RecordKind::Txt, txt_values::<T>(b'x'))?;
	Ok(())
}

fn txt_values<T: Config>(fill: u8) -> RecordValues<T> {
	let len = T::MaxRecordLen::get().min(255) as usize;
	let value = RecordValue::<T>::truncate_from(vec![fill; len]);
	RecordValues::<T>::truncate_from(vec![value; T::MaxRecords::get() as usize])
}

#[benchmarks]
mod benchmarks {
	use super::*;

	/// A full list of expired commitments, all removed and their deposits released, then the
	/// new commitment's deposit held.
	#[benchmark]
	fn commit() -> Result<(), BenchmarkError> {
		set_params::<T>();
		let caller = funded::<T>("caller", 0);
		fill_commitments::<T>(&caller)?;
		advance::<T>(EXPIRED_AFTER);
		#[extrinsic_call]
		_(RawOrigin::Signed(caller.clone()), H256::zero());
		assert_eq!(Commitments::<T>::get(&caller).len(), 1);
		assert_eq!(commitment_held::<T>(&caller), Params::<T>::get().commitment_deposit);
		Ok(())
	}

	/// The commitment last in a full list, its deposit released; the name replaces an expired
	/// registration that carries full records, paying rent and premium.
	#[benchmark]
	fn register() -> Result<(), BenchmarkError> {
		set_params::<T>();
		let old = funded::<T>("old", 0);
		let caller = funded::<T>("caller", 0);
		let label = long_label(b'a');
		let id = register_name::<T>(&old, &label)?;
		fill_records::<T>(&old, id)?;
		// Past grace, in the premium period.
		advance::<T>(1_000 + 10 + 1);
		for index in 1..T::MaxCommitments::get() {
			Naming::<T>::do_commit(caller.clone(), H256::repeat_byte(index as u8))?;
		}
		Naming::<T>::do_commit(
			caller.clone(),
			Naming::<T>::commitment_of(&label, &caller, &SECRET),
		)?;
		advance::<T>(1);
		#[extrinsic_call]
		_(RawOrigin::Signed(caller.clone()), label, caller.clone(), SECRET, 1);
		assert!(Records::<T>::get(id).is_empty());
		let left = T::MaxCommitments::get().saturating_sub(1);
		assert_eq!(
			commitment_held::<T>(&caller),
			Params::<T>::get().commitment_deposit.saturating_mul(left.into())
		);
		assert_eq!(Names::<T>::get(id).map(|info| info.owner), Some(caller));
		Ok(())
	}

	#[benchmark]
	fn renew() -> Result<(), BenchmarkError> {
		set_params::<T>();
		let caller = funded::<T>("caller", 0);
		let id = register_name::<T>(&caller, &long_label(b'a'))?;
		#[extrinsic_call]
		_(RawOrigin::Signed(caller), id, 1);
		Ok(())
	}

	#[benchmark]
	fn transfer() -> Result<(), BenchmarkError> {
		set_params::<T>();
		let caller = funded::<T>("caller", 0);
		let to: T::AccountId = account("to", 0, SEED);
		let name = deepest_name::<T>(&caller, false)?;
		#[extrinsic_call]
		_(RawOrigin::Signed(caller), name, to.clone());
		assert_eq!(Names::<T>::get(name).map(|info| info.owner), Some(to));
		Ok(())
	}

	/// A subname with full records and a deposit.
	#[benchmark]
	fn release() -> Result<(), BenchmarkError> {
		set_params::<T>();
		let caller = funded::<T>("caller", 0);
		let name = deepest_name::<T>(&caller, true)?;
		#[extrinsic_call]
		_(RawOrigin::Signed(caller), name);
		assert!(Names::<T>::get(name).is_none());
		Ok(())
	}

	/// Under a parent at `MaxDepth − 1`, replacing a stale subname with records and a deposit.
	#[benchmark]
	fn set_subname() -> Result<(), BenchmarkError> {
		set_params::<T>();
		let caller = funded::<T>("caller", 0);
		let ids = chain::<T>(&caller, T::MaxDepth::get())?;
		let stale = deepest(&ids)?;
		fill_records::<T>(&caller, stale)?;
		let parent = *ids.iter().rev().nth(1).ok_or(BenchmarkError::Stop("MaxDepth is 1"))?;
		let label = Names::<T>::get(stale).map(|info| info.label.into_inner()).unwrap_or_default();
		// Make it stale: a new generation of its parent.
		Generations::<T>::mutate(parent, |generation| *generation = generation.saturating_add(1));
		#[extrinsic_call]
		_(RawOrigin::Signed(caller.clone()), parent, label, caller.clone());
		assert!(Records::<T>::get(stale).is_empty());
		Ok(())
	}

	#[benchmark]
	fn revoke_subname() -> Result<(), BenchmarkError> {
		set_params::<T>();
		let caller = funded::<T>("caller", 0);
		let name = deepest_name::<T>(&caller, true)?;
		#[extrinsic_call]
		_(RawOrigin::Signed(caller), name);
		assert!(Names::<T>::get(name).is_none());
		Ok(())
	}

	#[benchmark]
	fn give_up_control() -> Result<(), BenchmarkError> {
		set_params::<T>();
		let caller = funded::<T>("caller", 0);
		let name = deepest_name::<T>(&caller, false)?;
		#[extrinsic_call]
		_(RawOrigin::Signed(caller), name);
		Ok(())
	}

	/// Full records replaced by full records of the longest values.
	#[benchmark]
	fn set_records() -> Result<(), BenchmarkError> {
		set_params::<T>();
		let caller = funded::<T>("caller", 0);
		let name = deepest_name::<T>(&caller, true)?;
		#[extrinsic_call]
		_(RawOrigin::Signed(caller), name, RecordKind::Txt, txt_values::<T>(b'y'));
		assert_eq!(Records::<T>::get(name).len() as u32, T::MaxRecords::get());
		Ok(())
	}

	#[benchmark]
	fn set_ttl() -> Result<(), BenchmarkError> {
		set_params::<T>();
		let caller = funded::<T>("caller", 0);
		let name = deepest_name::<T>(&caller, false)?;
		#[extrinsic_call]
		_(RawOrigin::Signed(caller), name, T::MaxTtl::get());
		Ok(())
	}

	#[benchmark]
	fn set_primary_name() -> Result<(), BenchmarkError> {
		set_params::<T>();
		let caller = funded::<T>("caller", 0);
		let name = deepest_name::<T>(&caller, false)?;
		#[extrinsic_call]
		_(RawOrigin::Signed(caller.clone()), Some(name));
		assert_eq!(PrimaryNames::<T>::get(&caller), Some(name));
		Ok(())
	}

	/// A stale subname at `MaxDepth` with full records and a deposit (its whole chain walked).
	#[benchmark]
	fn remove_stale() -> Result<(), BenchmarkError> {
		set_params::<T>();
		let caller = funded::<T>("caller", 0);
		let ids = chain::<T>(&caller, T::MaxDepth::get())?;
		let name = deepest(&ids)?;
		fill_records::<T>(&caller, name)?;
		// The registration is past its grace period: the whole chain is dead.
		advance::<T>(1_000 + 10 + 1);
		#[extrinsic_call]
		_(RawOrigin::Signed(caller), name);
		assert!(Names::<T>::get(name).is_none());
		Ok(())
	}

	/// `MaxCommitments` expired commitments of another account removed, their deposits
	/// released.
	#[benchmark]
	fn remove_expired_commitments() -> Result<(), BenchmarkError> {
		set_params::<T>();
		let committer = funded::<T>("committer", 0);
		let caller = funded::<T>("caller", 0);
		fill_commitments::<T>(&committer)?;
		advance::<T>(EXPIRED_AFTER);
		#[extrinsic_call]
		_(RawOrigin::Signed(caller), committer.clone());
		assert!(!Commitments::<T>::contains_key(&committer));
		assert!(commitment_held::<T>(&committer).is_zero());
		Ok(())
	}

	#[benchmark]
	fn set_parameters() -> Result<(), BenchmarkError> {
		set_params::<T>();
		let origin =
			T::AdminOrigin::try_successful_origin().map_err(|_| BenchmarkError::Weightless)?;
		let parameters = Params::<T>::get();
		#[extrinsic_call]
		_(origin as T::RuntimeOrigin, parameters);
		Ok(())
	}

	#[benchmark]
	fn set_reserved() -> Result<(), BenchmarkError> {
		let origin =
			T::AdminOrigin::try_successful_origin().map_err(|_| BenchmarkError::Weightless)?;
		let label = long_label(b'r');
		#[extrinsic_call]
		_(origin as T::RuntimeOrigin, label.clone(), true);
		assert!(Reserved::<T>::contains_key(Label::truncate_from(label)));
		Ok(())
	}

	impl_benchmark_test_suite!(Naming, crate::mock::ExtBuilder::build(), crate::mock::Test);
}
