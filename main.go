// Command todo-chatbot is the Pulumi program that ships the Todo Chatbot to
// Kubernetes. All of its logic lives in package infra.
package main

import (
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/todo-chatbot/todo-chatbot/infra"
)

func main() {
	// Pulumi runs the program from the project directory, the repository root.
	pulumi.Run(infra.Program("."))
}
