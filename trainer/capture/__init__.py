"""Input sources: camera and video file (OpenCV), microphone (sounddevice) and audio file (PyAV). No Qt.

Every source yields items stamped on the session clock (DESIGN.md section 3). File sources either pace
themselves in real time (they stand in for a live device) or run as fast as possible (offline analysis).
"""
