import os
BASE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SECRET_KEY = 'k#9v!x2@q7mz$h4&t1(wr8%n5e^p0*jb3_c6-d=fy+lu'
DEBUG = False
