/**
 * State Manager's `ScheduleExpression` for associations, as the user guide's "Cron and rate expressions for
 * associations" restricts it: rate expressions of 30 minutes or more and less than 31 days (`rate(1 hour)`,
 * `rate(5 hours)`: singular unit for 1, plural otherwise); cron expressions of six fields (minutes, hours,
 * day-of-month, month, day-of-week, year; an optional leading seconds field that can only be 0) that run every 30
 * minutes, every 1, 2, 4, 8 or 12 hours, or every day or every week at a given time. Months are not supported
 * (the month and year fields are `*`). Times are UTC.
 */
import { AwsError } from '../../errors.js';

export type AssociationSchedule =
  | { kind: 'rate'; intervalMs: number }
  /** Matches a UTC minute: the minute, the hour (a set), and a weekday (0 = Sunday) with its n-th occurrence. */
  | { kind: 'cron'; minutes: number[]; hours: number[]; weekday?: number; nth?: number };

const MINUTE_MS = 60_000;
const RATE_UNITS: Record<string, number> = { minute: MINUTE_MS, hour: 60 * MINUTE_MS, day: 24 * 60 * MINUTE_MS };
const DAYS = ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'];
const HOUR_STEPS = [1, 2, 4, 8, 12];

const invalidSchedule = (expression: string, why: string) =>
  new AwsError('InvalidSchedule', `Schedule expression ${expression} is not valid for an association: ${why}.`);

function parseRate(expression: string, body: string): AssociationSchedule {
  const match = /^([1-9][0-9]*) (minute|minutes|hour|hours|day|days)$/.exec(body);
  if (!match) throw invalidSchedule(expression, 'write rate(<number> minutes|hours|days)');
  const value = Number(match[1]);
  const unit = match[2].replace(/s$/, '');
  if ((value === 1) !== (match[2] === unit)) {
    throw invalidSchedule(expression, 'the unit is singular for 1 and plural otherwise');
  }
  const intervalMs = value * RATE_UNITS[unit];
  if (intervalMs < 30 * MINUTE_MS || intervalMs >= 31 * RATE_UNITS.day) {
    throw invalidSchedule(expression, 'a rate must be 30 minutes or more and less than 31 days');
  }
  return { kind: 'rate', intervalMs };
}

/** `N`, `*`, or `0/S`/`*\/S` (every S from 0) within 0..max. */
function field(value: string, max: number, steps?: number[]): number[] | undefined {
  if (/^[0-9]{1,2}$/.test(value) && Number(value) <= max) return [Number(value)];
  if (value === '*') return Array.from({ length: max + 1 }, (_, i) => i);
  const step = /^(?:0|\*)\/([0-9]{1,2})$/.exec(value);
  if (!step || (steps && !steps.includes(Number(step[1]))) || Number(step[1]) < 1) return undefined;
  return Array.from({ length: Math.ceil((max + 1) / Number(step[1])) }, (_, i) => i * Number(step[1]));
}

function weekday(value: string): { weekday: number; nth?: number } | undefined {
  const match = /^([A-Z]{3}|[1-7])(?:#([1-5]))?$/.exec(value.toUpperCase());
  if (!match) return undefined;
  const day = /^[1-7]$/.test(match[1]) ? Number(match[1]) - 1 : DAYS.indexOf(match[1]);
  if (day < 0) return undefined;
  return { weekday: day, nth: match[2] === undefined ? undefined : Number(match[2]) };
}

function parseCron(expression: string, body: string): AssociationSchedule {
  let fields = body.split(' ');
  if (fields.length === 7) {
    if (fields[0] !== '0') throw invalidSchedule(expression, 'the seconds field can only be 0');
    fields = fields.slice(1);
  }
  if (fields.length !== 6) throw invalidSchedule(expression, 'a cron expression has six fields (or seven with seconds)');
  const [minute, hour, dayOfMonth, month, dayOfWeek, year] = fields;
  if (month !== '*' || year !== '*') throw invalidSchedule(expression, 'months and years are not supported');
  if ((dayOfMonth === '?') === (dayOfWeek === '?')) {
    throw invalidSchedule(expression, 'exactly one of day-of-month and day-of-week must be ?');
  }
  if (dayOfMonth !== '?' && dayOfMonth !== '*') throw invalidSchedule(expression, 'days of the month are not supported');
  const everyHalfHour = /^(?:0|\*)\/30$/.test(minute) && hour === '*';
  const minutes = everyHalfHour ? [0, 30] : /^[0-9]{1,2}$/.test(minute) ? field(minute, 59) : undefined;
  const hours = field(hour, 23, HOUR_STEPS);
  if (!minutes || !hours) {
    throw invalidSchedule(expression, 'associations run every 30 minutes, every 1, 2, 4, 8 or 12 hours, or daily or weekly');
  }
  if (dayOfWeek === '?' || dayOfWeek === '*') return { kind: 'cron', minutes, hours };
  const day = weekday(dayOfWeek);
  if (!day || hours.length !== 1) throw invalidSchedule(expression, 'a weekly schedule names one day and one time');
  return { kind: 'cron', minutes, hours, ...day };
}

/** Parses an association's schedule; throws InvalidSchedule (AWS's code) for anything associations do not run. */
export function parseSchedule(expression: string): AssociationSchedule {
  const match = /^(rate|cron)\((.*)\)$/.exec(expression.trim());
  if (!match) throw invalidSchedule(expression, 'write rate(...) or cron(...)');
  return match[1] === 'rate' ? parseRate(expression, match[2].trim()) : parseCron(expression, match[2].trim());
}

function cronMatches(schedule: Extract<AssociationSchedule, { kind: 'cron' }>, ms: number): boolean {
  const date = new Date(ms);
  if (!schedule.minutes.includes(date.getUTCMinutes()) || !schedule.hours.includes(date.getUTCHours())) return false;
  if (schedule.weekday === undefined) return true;
  if (date.getUTCDay() !== schedule.weekday) return false;
  return schedule.nth === undefined || Math.ceil(date.getUTCDate() / 7) === schedule.nth;
}

/** The farthest back a cron's ticks are looked for: two months hold at least one tick of every cron associations run. */
export const CRON_LOOKBACK_MS = 62 * RATE_UNITS.day;

/**
 * The times (ms, ascending) the schedule fires in (fromMs, toMs]. A rate fires every interval after `anchorMs`
 * (when the association version was made); a cron on its UTC minutes, `offsetDays` later (ScheduleOffset), and only
 * within the last CRON_LOOKBACK_MS of the window.
 */
export function ticks(
  schedule: AssociationSchedule,
  anchorMs: number,
  fromMs: number,
  toMs: number,
  offsetDays = 0,
): number[] {
  const found: number[] = [];
  if (schedule.kind === 'rate') {
    const first = anchorMs + (Math.floor((fromMs - anchorMs) / schedule.intervalMs) + 1) * schedule.intervalMs;
    for (let at = first; at <= toMs; at += schedule.intervalMs) found.push(at);
    return found;
  }
  const offsetMs = offsetDays * RATE_UNITS.day;
  const start = Math.max(fromMs, toMs - CRON_LOOKBACK_MS) - offsetMs;
  for (let at = (Math.floor(start / MINUTE_MS) + 1) * MINUTE_MS; at <= toMs - offsetMs; at += MINUTE_MS) {
    if (cronMatches(schedule, at)) found.push(at + offsetMs);
  }
  return found;
}
