package agent

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"
	"github.com/openai/openai-go/v3/shared"

	"github.com/todo-chatbot/todo-chatbot/backend/internal/store"
)

// OpenAI is the LLM brain: any OpenAI-compatible Chat Completions endpoint with tool calling.
type OpenAI struct {
	// Completions is the official client's Chat Completions service. It is built on its own
	// (not through openai.NewClient) so the binary links only this service, not the whole API.
	Completions openai.ChatCompletionService
	Model       string
	MaxSteps    int // model round trips per user message
}

// NewOpenAI builds the brain. baseURL may be empty (api.openai.com).
func NewOpenAI(baseURL, apiKey, model string, hc *http.Client) *OpenAI {
	if hc == nil {
		hc = &http.Client{Timeout: 90 * time.Second}
	}
	opts := []option.RequestOption{option.WithEnvironmentProduction(), option.WithHTTPClient(hc),
		option.WithAPIKey(apiKey), option.WithMaxRetries(2), option.WithRequestTimeout(60 * time.Second)}
	if baseURL != "" {
		opts = append(opts, option.WithBaseURL(baseURL))
	}
	return &OpenAI{Completions: openai.NewChatCompletionService(opts...), Model: model, MaxSteps: 8}
}

const systemPrompt = `You are a helpful to-do list assistant. You manage the user's tasks only through the tools.
Tasks are named by the user's own task numbers (task_id is that number). Use list_tasks to find the
number when the user names a task by its title. Confirm every action briefly, including the task
number and title, e.g. "Added task 7: buy milk". If a request is ambiguous, ask which task.
To reopen a completed task call update_task with completed=false. Before deleting more than one task,
ask "Delete all N tasks?" and delete only after the user answers yes. If the user says they did NOT
do something, or is unsure, change nothing and ask. "Undo" reverses your last change in this
conversation: restore_task after a delete, the "previous" values after an update.`

func toolParams() []openai.ChatCompletionToolUnionParam {
	out := make([]openai.ChatCompletionToolUnionParam, len(Specs))
	for i, s := range Specs {
		out[i] = openai.ChatCompletionFunctionTool(shared.FunctionDefinitionParam{
			Name:        s.Name,
			Description: openai.String(s.Description),
			Parameters:  shared.FunctionParameters(s.Parameters),
		})
	}
	return out
}

// historyParams converts stored messages to Chat Completions messages.
func historyParams(history []store.Message) []openai.ChatCompletionMessageParamUnion {
	var out []openai.ChatCompletionMessageParamUnion
	for _, m := range history {
		switch m.Role {
		case store.RoleUser:
			out = append(out, openai.UserMessage(m.Content))
		case store.RoleAssistant:
			a := openai.ChatCompletionAssistantMessageParam{}
			if m.Content != "" {
				a.Content.OfString = openai.String(m.Content)
			}
			for _, c := range m.ToolCalls {
				a.ToolCalls = append(a.ToolCalls, openai.ChatCompletionMessageToolCallUnionParam{
					OfFunction: &openai.ChatCompletionMessageFunctionToolCallParam{
						ID:       c.ID,
						Function: openai.ChatCompletionMessageFunctionToolCallFunctionParam{Name: c.Name, Arguments: c.Arguments},
					},
				})
			}
			out = append(out, openai.ChatCompletionMessageParamUnion{OfAssistant: &a})
		case store.RoleTool:
			out = append(out, openai.ToolMessage(m.Content, m.ToolCallID))
		}
	}
	return out
}

// ErrLLM wraps failures of the model endpoint (the handler answers 502).
var ErrLLM = errors.New("language model request failed")

// Plan implements Brain.
func (o *OpenAI) Plan(user string) Plan { return openaiPlan{o: o, user: user} }

// openaiPlan is one message for the model.
type openaiPlan struct {
	o    *OpenAI
	user string
}

// Turns implements Plan: the model reads the whole window.
func (openaiPlan) Turns() int { return 0 }

// FirstRead implements Plan: the model decides what to read once it has the history.
func (openaiPlan) FirstRead() (string, bool) { return "", false }

// Respond implements Plan.
func (p openaiPlan) Respond(ctx context.Context, history []store.Message, tools *Tools) (string, []store.Message, error) {
	return p.o.respond(ctx, history, p.user, tools)
}

// respond calls the model, runs the tools it asks for, feeds the results back, until it answers
// without tool calls or MaxSteps is reached.
func (o *OpenAI) respond(ctx context.Context, history []store.Message, user string, tools *Tools) (string, []store.Message, error) {
	msgs := append([]openai.ChatCompletionMessageParamUnion{openai.SystemMessage(systemPrompt)}, historyParams(history)...)
	msgs = append(msgs, openai.UserMessage(user))
	var turn []store.Message
	steps := o.MaxSteps
	if steps <= 0 {
		steps = 8
	}
	for step := 0; step < steps; step++ {
		resp, err := o.Completions.New(ctx, openai.ChatCompletionNewParams{
			Model:    o.Model,
			Messages: msgs,
			Tools:    toolParams(),
		})
		if err != nil {
			return "", nil, fmt.Errorf("%w: %w", ErrLLM, err)
		}
		if len(resp.Choices) == 0 {
			return "", nil, fmt.Errorf("%w: no choices", ErrLLM)
		}
		msg := resp.Choices[0].Message
		if len(msg.ToolCalls) == 0 {
			reply := strings.TrimSpace(msg.Content)
			if reply == "" {
				reply = strings.TrimSpace(msg.Refusal)
			}
			if reply == "" {
				reply = "Done."
			}
			turn = append(turn, store.Message{Role: store.RoleAssistant, Content: reply})
			return reply, turn, nil
		}
		stored := store.Message{Role: store.RoleAssistant, Content: msg.Content}
		for _, tc := range msg.ToolCalls {
			stored.ToolCalls = append(stored.ToolCalls, store.ToolCall{ID: tc.ID, Name: tc.Function.Name, Arguments: tc.Function.Arguments})
		}
		turn = append(turn, stored)
		msgs = append(msgs, msg.ToParam())
		for _, tc := range msg.ToolCalls {
			if _, err := tools.Call(ctx, tc.Function.Name, []byte(tc.Function.Arguments)); err != nil {
				return "", nil, err
			}
			out := string(tools.Calls[len(tools.Calls)-1].Result)
			turn = append(turn, store.Message{Role: store.RoleTool, ToolCallID: tc.ID, Content: out})
			msgs = append(msgs, openai.ToolMessage(out, tc.ID))
		}
	}
	reply := "Sorry, I couldn't finish that request in a reasonable number of steps."
	turn = append(turn, store.Message{Role: store.RoleAssistant, Content: reply})
	return reply, turn, nil
}
