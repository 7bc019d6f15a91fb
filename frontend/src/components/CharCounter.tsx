import { charCount } from '../api';

interface Props {
  id: string;
  value: string;
  max: number;
}

/**
 * "12 / 500" under an input, counted in characters as the server counts them. Over the limit
 * it turns into an error the input points at (aria-describedby); nothing is ever cut off.
 */
export function CharCounter({ id, value, max }: Props) {
  const n = charCount(value);
  const over = n - max;
  return (
    <span id={id} className={`counter${over > 0 ? ' counter--over' : ''}`} aria-live={over > 0 ? 'polite' : 'off'}>
      {over > 0 ? `${n} / ${max} characters — ${over} too many` : `${n} / ${max}`}
    </span>
  );
}

export function tooLong(value: string, max: number): boolean {
  return charCount(value) > max;
}
