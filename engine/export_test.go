package engine

// ForgetWindows empties the engine's cache of windows read before, so that a
// benchmark repeating one corpus measures a first read each time.
func (e *Engine) ForgetWindows() { e.seen = newWinCache() }
