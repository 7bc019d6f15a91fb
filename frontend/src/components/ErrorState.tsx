interface Props {
  message: string;
  onRetry: () => void;
  retryLabel?: string;
}

/** A failed load: what happened and a way to try again. */
export function ErrorState({ message, onRetry, retryLabel = 'Retry' }: Props) {
  return (
    <div className="error-state" role="alert">
      <p>{message}</p>
      <button type="button" className="btn" onClick={onRetry}>
        {retryLabel}
      </button>
    </div>
  );
}
