"""Pure-Python core: scenario model, loader and engine, session events, clock, metric maths.

Never imports cv2, mediapipe, sounddevice, av or PySide6 (checked by import-linter in the tests).
"""
