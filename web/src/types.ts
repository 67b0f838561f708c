// The API's shapes, as the web app reads them (README "API" and "Live events").
// What the API sends is generated from its document (api-types.ts).

export type { ChatMessage, Chip, Conversation, Priority, QuickAddPreview, Task, TextRange } from './api-types';

export interface User {
  id: string;
  email: string | null;
  name: string | null;
  /** IANA time zone; absent in sessions saved before it existed. */
  time_zone?: string;
}

export interface Session {
  user: User;
  token: string;
  expires_at: string;
}

export interface ToolCallRequest {
  id: string;
  name: string;
  arguments: string;
}

/** A tool call with its result, as `tool.called` carries it. */
export interface ToolCall {
  tool_call_id?: string;
  name: string;
  arguments: unknown;
  result: unknown;
}
