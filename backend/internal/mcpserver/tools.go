// Package mcpserver serves the chat agent's task tools over the Model Context Protocol
// (streamable HTTP, stateless), so MCP clients (kagent, desktop and IDE assistants) manage a
// user's todos with the same code, validation and limits as the chat agent.
package mcpserver

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"slices"

	"github.com/google/jsonschema-go/jsonschema"
	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/todo-chatbot/todo-chatbot/backend/internal/agent"
	"github.com/todo-chatbot/todo-chatbot/backend/internal/store"
)

// TaskResult is the structured result of add_task, complete_task, delete_task and update_task.
type TaskResult struct {
	Task store.Task `json:"task"`
}

// TaskListResult is the structured result of list_tasks.
type TaskListResult struct {
	Tasks []store.Task `json:"tasks"`
}

// Deps are what the tools need from the server around them.
type Deps struct {
	Tasks agent.TaskStore
	Log   *slog.Logger
	// UserID is the authenticated user of the request ctx belongs to (0: none). The MCP
	// handler runs stateless, so every tool call's ctx derives from its own HTTP request.
	UserID func(context.Context) int64
	// RequestID names the HTTP request in logs.
	RequestID func(context.Context) string
	// Version is reported to clients as the server's version.
	Version string
}

// ServerName is how the server introduces itself to MCP clients.
const ServerName = "todo-chatbot"

// NewServer returns an MCP server with the chat agent's task tools registered (the five of the MCP contract and restore_task).
func NewServer(d Deps) *mcp.Server {
	if d.Version == "" {
		d.Version = "dev"
	}
	srv := mcp.NewServer(&mcp.Implementation{Name: ServerName, Title: "Todo Chatbot", Version: d.Version},
		&mcp.ServerOptions{
			Instructions: "Manage the signed-in user's todo list. Tasks are referred to by their integer id; " +
				"call list_tasks to find ids.",
			Logger: warnLogger(d.Log),
		})
	// The hints let a client ask before destructive calls; no tool reaches outside the app.
	yes, no := true, false
	oneTask := func(r agent.Result) TaskResult { return TaskResult{Task: *r.Task} }
	addTool[agent.AddArgs](srv, d, agent.ToolAdd,
		&mcp.ToolAnnotations{Title: "Add a task", DestructiveHint: &no, OpenWorldHint: &no}, oneTask)
	addTool[agent.ListArgs](srv, d, agent.ToolList,
		&mcp.ToolAnnotations{Title: "List tasks", ReadOnlyHint: true, OpenWorldHint: &no},
		func(r agent.Result) TaskListResult { return TaskListResult{Tasks: r.Tasks} })
	addTool[agent.IDArgs](srv, d, agent.ToolComplete,
		&mcp.ToolAnnotations{Title: "Complete a task", IdempotentHint: true, DestructiveHint: &no, OpenWorldHint: &no}, oneTask)
	addTool[agent.IDArgs](srv, d, agent.ToolDelete,
		&mcp.ToolAnnotations{Title: "Delete a task", DestructiveHint: &yes, OpenWorldHint: &no}, oneTask)
	addTool[agent.UpdateArgs](srv, d, agent.ToolUpdate,
		&mcp.ToolAnnotations{Title: "Update a task", IdempotentHint: true, DestructiveHint: &yes, OpenWorldHint: &no}, oneTask)
	// Undo of a delete, as in chat: a client that deleted by mistake can take it back.
	addTool[agent.IDArgs](srv, d, agent.ToolRestore,
		&mcp.ToolAnnotations{Title: "Restore a deleted task", IdempotentHint: true, DestructiveHint: &no, OpenWorldHint: &no}, oneTask)
	return srv
}

// inputSchema is the MCP input schema of the named tool: the shape of the agent's argument
// struct In (so no unknown fields), the chat tool's descriptions, and the tools' limits as
// constraints, so a client learns them before it calls. The tools check the same limits again
// (in characters, as a schema's maxLength counts them).
func inputSchema[In any](name string) (*jsonschema.Schema, error) {
	s, err := jsonschema.For[In](nil)
	if err != nil {
		return nil, err
	}
	var spec agent.ToolSpec
	for _, sp := range agent.Specs {
		if sp.Name == name {
			spec = sp
		}
	}
	s.Description = spec.Description
	specProps, _ := spec.Parameters["properties"].(map[string]any)
	for prop, ps := range s.Properties {
		// Optional fields are pointers in the argument structs, which infer as "type or null";
		// a client leaves them out instead, as the chat tool's spec says.
		if len(ps.Types) == 2 && slices.Contains(ps.Types, "null") {
			ps.Type = ps.Types[slices.IndexFunc(ps.Types, func(t string) bool { return t != "null" })]
			ps.Types = nil
		}
		if sp, ok := specProps[prop].(map[string]any); ok {
			if desc, ok := sp["description"].(string); ok {
				ps.Description = desc
			}
		}
		switch prop {
		case "title":
			ps.MinLength = jsonschema.Ptr(1)
			ps.MaxLength = jsonschema.Ptr(agent.MaxTitleLen)
		case "description":
			ps.MaxLength = jsonschema.Ptr(agent.MaxDescriptionLen)
		case "task_id":
			ps.Minimum = jsonschema.Ptr(1.0)
			if ps.Description == "" {
				ps.Description = "The task's id, as list_tasks shows it"
			}
		case "status":
			ps.Enum = []any{store.StatusAll, store.StatusPending, store.StatusCompleted}
			ps.Default = json.RawMessage(`"` + store.StatusAll + `"`)
			if ps.Description == "" {
				ps.Description = "Which tasks to list (default all)"
			}
		}
	}
	return s, nil
}

// addTool registers one tool whose handler runs the agent's own implementation of it.
func addTool[In, Out any](srv *mcp.Server, d Deps, name string, ann *mcp.ToolAnnotations, shape func(agent.Result) Out) {
	in, err := inputSchema[In](name)
	if err != nil {
		panic(err) // the tool table above is fixed: a failure is a programming error
	}
	tool := &mcp.Tool{Name: name, Description: in.Description, InputSchema: in, Annotations: ann}
	mcp.AddTool(srv, tool, func(ctx context.Context, req *mcp.CallToolRequest, args In) (*mcp.CallToolResult, Out, error) {
		var zero Out
		uid := d.UserID(ctx)
		if uid == 0 { // the auth middleware runs first; never act without a user
			return nil, zero, &jsonrpc.Error{Code: jsonrpc.CodeInternalError, Message: "not authenticated"}
		}
		raw, err := json.Marshal(args)
		if err != nil {
			return nil, zero, err
		}
		tools := &agent.Tools{Store: d.Tasks, UserID: uid}
		res, err := tools.Call(ctx, name, raw)
		if err != nil {
			return nil, zero, d.internal(ctx, name, err)
		}
		if res.Error != "" {
			// A tool error (isError: true): the client or its model can act on it.
			return nil, zero, errors.New(res.Error)
		}
		return nil, shape(res), nil
	})
}

// internal logs an infrastructure failure and answers a JSON-RPC internal error that names
// nothing (no SQL, no stack).
func (d Deps) internal(ctx context.Context, tool string, err error) error {
	rid := ""
	if d.RequestID != nil {
		rid = d.RequestID(ctx)
	}
	if ctx.Err() != nil {
		d.Log.Info("mcp tool call cancelled", "request_id", rid, "tool", tool)
	} else {
		d.Log.Error("mcp tool call failed", "request_id", rid, "tool", tool, "err", err.Error())
	}
	return &jsonrpc.Error{Code: jsonrpc.CodeInternalError, Message: "internal error"}
}
