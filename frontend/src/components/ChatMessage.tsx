import type { ChatItem } from '../chatFormat';
import { toolCallLine } from '../chatFormat';

interface Props {
  item: ChatItem;
  onRetry?: () => void;
}

export function ChatMessage({ item, onRetry }: Props) {
  const who = item.role === 'user' ? 'You' : 'Assistant';
  return (
    <li className={`msg msg--${item.role}${item.status ? ` msg--${item.status}` : ''}`}>
      <span className="visually-hidden">{who}: </span>
      {item.toolCalls.length > 0 && (
        <ul className="msg__tools" aria-label="Actions taken">
          {item.toolCalls.map((tc, i) => {
            const line = toolCallLine(tc);
            return (
              <li key={i} className="tool-call" title={line}>
                <span className="tool-call__icon" aria-hidden="true">
                  ⚙
                </span>
                <span className="tool-call__text">{line}</span>
              </li>
            );
          })}
        </ul>
      )}
      {item.text && <p className="msg__text">{item.text}</p>}
      {item.status === 'failed' && (
        <p className="msg__failed">
          Not sent.{' '}
          {onRetry && (
            <button type="button" className="link" onClick={onRetry}>
              Try again
            </button>
          )}
        </p>
      )}
    </li>
  );
}
