import {
  CapacityInputError,
  computeCapacity,
  formatNumber,
  NOTES_CAPACITY,
  NOTES_PRESET_SCALE,
  presetFromCapacity,
  type CapacityResult,
  type SimPreset,
} from '../sim/apm/capacity.ts';
import { formOf, parseCapacityForm, type CapacityField, type CapacityForm } from './capacity-form.ts';

/**
 * The capacity calculator's view-model: the form (text per field), its parse, and the result of capacity.ts with
 * the steps of its arithmetic. While a field is wrong the last good result stays on screen, marked stale, so a
 * presenter typing a new number does not make the whole explanation blink away.
 *
 * The simulation preset: settings cannot resize a scenario's partitions or brokers, so the calculator opens the
 * built-in `apm-capacity` run, built from the notes' default sizing scaled by `NOTES_PRESET_SCALE`. `preset`
 * describes it and `matchesPreset` says whether the numbers on the form size the same queue.
 */

export const PRESET_SCENARIO = 'apm-capacity';

export type Outcome = { ok: true; result: CapacityResult } | { ok: false; errors: Partial<Record<CapacityField, string>>; formError: string | null };

export class CapacityModel {
  form = $state<CapacityForm>(formOf(NOTES_CAPACITY));

  readonly outcome: Outcome = $derived.by(() => {
    const parsed = parseCapacityForm(this.form);
    if (!parsed.ok) return { ok: false, errors: parsed.errors, formError: null };
    try {
      return { ok: true, result: computeCapacity(parsed.input) };
    } catch (e) {
      if (e instanceof CapacityInputError) return { ok: false, errors: {}, formError: e.problems.join('; ') };
      throw e;
    }
  });

  /** The result shown: the current one, or the last good one while the form has an error. */
  private lastGood: CapacityResult = computeCapacity(NOTES_CAPACITY);
  readonly shown: CapacityResult = $derived.by(() => {
    if (this.outcome.ok) this.lastGood = this.outcome.result;
    return this.lastGood;
  });
  readonly stale = $derived(!this.outcome.ok);
  readonly errors: Partial<Record<CapacityField, string>> = $derived(this.outcome.ok ? {} : this.outcome.errors);
  readonly formError: string | null = $derived(this.outcome.ok ? null : this.outcome.formError);

  readonly isDefault = $derived(JSON.stringify(this.form) === JSON.stringify(formOf(NOTES_CAPACITY)));

  readonly preset: SimPreset = presetFromCapacity(computeCapacity(NOTES_CAPACITY), NOTES_PRESET_SCALE);
  /** "1:500": the scale on each of servers and metrics per server. */
  readonly presetScale = `1:${formatNumber(1 / NOTES_PRESET_SCALE)}`;
  readonly presetTrafficScale = `1:${formatNumber(Math.round(1 / this.preset.trafficScale))}`;
  readonly matchesPreset = $derived(
    this.outcome.ok &&
      this.outcome.result.partitions === this.preset.partitions &&
      this.outcome.result.brokers === this.preset.brokers &&
      this.outcome.result.input.replicationFactor === this.preset.replicationFactor,
  );

  set(field: CapacityField, value: string): void {
    this.form[field] = value;
  }

  reset(): void {
    this.form = formOf(NOTES_CAPACITY);
  }
}
