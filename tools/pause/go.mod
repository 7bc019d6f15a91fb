module github.com/todo-chatbot/todo-chatbot/tools/pause

go 1.26.0
