package httpapi

import (
	"net/http"

	"github.com/todo-chatbot/todo-chatbot/backend/internal/mcpserver"
)

// MCPPath is where the task tools are served over MCP (streamable HTTP).
const MCPPath = "/mcp"

// mcpHandler serves the chat agent's tools over MCP behind the same bearer-token check as the
// REST API: a request without a valid token gets 401 before any MCP processing.
func (s *Server) mcpHandler() http.Handler {
	srv := mcpserver.NewServer(mcpserver.Deps{Tasks: s.store, Log: s.log, UserID: userID, RequestID: RequestID})
	return s.requireAuth(mcpserver.Handler(srv, MaxBodyBytes, s.log).ServeHTTP)
}
