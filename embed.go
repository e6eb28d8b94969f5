package main

import "embed"

// The binary carries its pages and assets: one file runs anywhere.
var (
	//go:embed views
	viewsFS embed.FS
	//go:embed static
	staticFS embed.FS
)
