"""The app's style sheet: a calm light shell and a dark call window, readable at a glance."""

STYLE = """
QWidget { font-size: 14px; }
QLabel#pageTitle { font-size: 22px; font-weight: 600; margin: 6px 0 10px 0; }
QLabel#hint { color: #555; }
QListWidget::item { padding: 6px 0px; border-bottom: 1px solid #e3e7ec; }
QListWidget::item:selected { background: #2d6cdf; color: white; }
QLabel#errorBox { background: #fdecea; color: #611a15; border: 1px solid #f5c2bd; border-radius: 6px; padding: 8px; }
QLabel#noticeBox { background: #fff4d6; color: #5a4300; border: 1px solid #f0d68a; border-radius: 6px; padding: 8px; }
QLabel#metricValue { font-size: 18px; font-weight: 600; }
QPushButton { padding: 7px 16px; border-radius: 6px; border: 1px solid #b9c1cc; background: #f4f6f9; }
QPushButton:focus { border: 2px solid #2d6cdf; }
QPushButton#primary:focus { border: 3px solid #0b2a66; }
QListWidget:focus, QTableWidget:focus, QTableView:focus, QComboBox:focus, QLineEdit:focus, QTextBrowser:focus, QScrollArea:focus, QTabBar::tab:focus { border: 2px solid #2d6cdf; }
QLabel#instruction { font-size: 16px; }
QLabel#resultBanner { font-size: 17px; font-weight: 600; border-radius: 6px; padding: 8px; }
QLabel#resultBanner[state="pass"] { background: #e3f5ea; color: #0f5132; border: 1px solid #a3d9b8; }
QLabel#resultBanner[state="fix"] { background: #fdecea; color: #611a15; border: 1px solid #f5c2bd; }
QToolButton:focus { border: 2px solid #ffffff; }
QPushButton#intentCard:focus { border: 3px solid #ffffff; }
QPushButton#primary { background: #2d6cdf; color: white; border: 1px solid #2457b5; font-weight: 600; }
QPushButton#primary:disabled { background: #b8c9e8; color: #f4f6fb; border: 1px solid #b8c9e8; }
QWidget#visitPage { background: #1e2329; }
QWidget#visitPage QLabel#status { color: #d7dde4; }
QWidget#visitPage QLabel#prompt { color: #ffffff; font-size: 15px; }
QWidget#visitPage QLabel#clock { color: #aab4bf; font-family: monospace; font-size: 15px; padding: 0 12px; }
QLabel#selfView { background: #000; color: #ccc; border: 2px solid #3b4450; border-radius: 6px; }
QPushButton#endCall { background: #d93b3b; color: white; border: 1px solid #a92a2a; font-weight: 600; padding: 9px 22px; }
QPushButton#endCall:focus { border: 2px solid #ffffff; }
QLabel#qualityBox { background: #5a4300; color: #fff4d6; border-radius: 6px; padding: 6px; }
QProgressBar#shareBar { color: #ffffff; min-height: 18px; }
QProgressBar#shareBar::chunk { background: #1d7a46; }
QLabel#shareBanner { background: #2d6cdf; color: white; padding: 6px 10px; border-radius: 6px; font-weight: 600; }
QPushButton#callAction, QToolButton#callAction { background: #39414b; color: #f0f3f6; border: 1px solid #4a5563; padding: 8px 14px; border-radius: 6px; }
QPushButton#callAction:checked { background: #2457b5; border-color: #1b4690; }
QPushButton#intentCard { background: #f4f6f9; color: #1e2329; padding: 8px 12px; }
QPushButton#intentCard:checked { background: #4cc38a; color: #0c2a1b; font-weight: 600; }
QProgressBar { background: #39414b; border: none; border-radius: 4px; }
QProgressBar::chunk { background: #4cc38a; border-radius: 4px; }
"""
