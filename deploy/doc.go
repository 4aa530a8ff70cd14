// Package deploy holds the deployment files of Mitosis (compose, the Helm
// chart) and the tests that prove each would start.
package deploy
