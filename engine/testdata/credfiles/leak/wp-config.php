<?php
/** The name of the database for WordPress */
define( 'DB_NAME', 'blog' );
/** Database username */
define( 'DB_USER', 'blog' );
/** Database password */
define( 'DB_PASSWORD', 'Hq7vX2mLr9Zc' );
define( 'DB_HOST', 'localhost' );
define('AUTH_KEY',         'Z~4k|Rb)p1-Nw|QmT4+Zv^e2Gd#Hs9Lq3@Tf8!Wc6&Yx');
$table_prefix = 'wp_';
