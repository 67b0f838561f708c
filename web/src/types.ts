// The API's shapes, as the web app reads them (README "API" and "Live events").

export type Priority = 'low' | 'medium' | 'high';

export interface Task {
  id: number;
  title: string;
  description: string;
  completed: boolean;
  priority: Priority;
  tags: string[];
  due_at: string | null;
  completed_at: string | null;
  created_at: string;
  updated_at: string;
}

export interface User {
  id: string;
  email: string | null;
  name: string | null;
}

export interface Session {
  user: User;
  token: string;
  expires_at: string;
}

export interface Conversation {
  id: string;
  title: string;
  created_at: string;
  updated_at: string;
  last_message?: string | null;
}

export interface ToolCallRequest {
  id: string;
  name: string;
  arguments: string;
}

export interface ChatMessage {
  id: string;
  conversation_id: string;
  seq: number;
  role: 'user' | 'assistant' | 'tool';
  content: string;
  status: string;
  tool_calls: ToolCallRequest[] | null;
  tool_call_id: string | null;
  tool_name: string | null;
  reply_to: string | null;
  is_final: boolean;
  metadata: Record<string, unknown>;
  error: string | null;
  /** The Idempotency-Key it was posted with (user messages sent by a client that set one). */
  idempotency_key: string | null;
  created_at: string;
}

/** A tool call with its result, as `tool.called` carries it. */
export interface ToolCall {
  tool_call_id?: string;
  name: string;
  arguments: unknown;
  result: unknown;
}
