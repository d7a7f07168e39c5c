package client

func init() { strictJSON = true }
